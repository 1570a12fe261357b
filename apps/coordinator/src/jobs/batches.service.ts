import { createHash, randomUUID } from 'node:crypto';
import { HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { base64ToBytes, canonicalJson, EnvelopeError, openEnvelope } from '@concord/crypto';
import {
  answerContext,
  answerKindOf,
  type BatchAssignment,
  type BatchAnswerPayload,
  PROTOCOL_VERSION,
  validateBatchAnswer,
} from '@concord/protocol';
import type { AuthenticatedAgent } from '../agents/agent-authenticator';
import { COORDINATOR_KEYS, type CoordinatorKeys } from '../agents/coordinator-keys';
import { aggregateBatch } from '../aggregation/aggregate';
import { InvalidInputException, ProblemException } from '../common/problem';
import { LedgerService } from '../ledger/ledger.service';
import type { TransactionScope } from '../ledger/ledger.repository';
import { TasksRepository } from '../tasks/tasks.repository';
import type { BatchEntity } from './entities/batch.entity';
import { DataDependentService } from './data-dependent.service';
import { type JobRow, JobsRepository, type SubmissionRow } from './jobs.repository';
import { batchEvent } from './mechanism';

/** A batch that cannot gather enough teachers is retried this many times before the job fails. */
export const MAX_BATCH_ATTEMPTS = 3;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export type AggregationResult = 'released' | 'waiting' | 'retried' | 'failed' | 'skipped';

/**
 * The batch protocol on the coordinator's side: hands agents their next batch, accepts sealed
 * answers (validated before anything is stored), and aggregates a batch once every active
 * participant answered or its deadline passed — noise, then `chargeAndRelease`, so labels exist
 * only with their charge.
 */
@Injectable()
export class BatchesService {
  private readonly logger = new Logger('Batches');
  private readonly inFlight = new Set<string>();
  /** This process, as the owner of batch leases. */
  private readonly replicaId = randomUUID();

  constructor(
    private readonly jobs: JobsRepository,
    private readonly tasks: TasksRepository,
    private readonly ledger: LedgerService,
    @Inject(COORDINATOR_KEYS) private readonly keys: CoordinatorKeys,
    private readonly dataDependent: DataDependentService,
  ) {}

  async next(agent: AuthenticatedAgent): Promise<BatchAssignment | null> {
    const batch = await this.jobs.nextBatchFor(agent.institutionId);
    if (!batch) return null;
    const job = (await this.jobs.findJob(batch.jobId))!;
    const task = (await this.tasks.find(job.taskId))!;
    const participant = (await this.jobs.participants(job.id)).find((p) => p.institutionId === agent.institutionId);
    const queries = await this.tasks.publicExamples(task.id, batch.queryIndices);
    return {
      protocolVersion: PROTOCOL_VERSION,
      jobId: job.id,
      batchId: batch.id,
      seq: batch.seq,
      attempt: batch.attempt,
      deadline: batch.deadlineAt.toISOString(),
      mechanism: job.mechanism,
      answerKind: answerKindOf(job.mechanism),
      classes: task.classes,
      inputSpec: task.inputSpec,
      delta: job.delta,
      teachers: participant?.teachers ?? null,
      queries,
    };
  }

  /** Accepts one institution's sealed answer to a batch; nothing is stored unless every check passes. */
  async submit(
    agent: AuthenticatedAgent,
    batchId: string,
    body: { nonce: unknown; envelope: unknown },
  ): Promise<{ status: 'accepted' | 'already_received' }> {
    const batch = await this.jobs.findBatch(batchId);
    if (!batch) throw new ProblemException(HttpStatus.NOT_FOUND, 'Batch not found', `no batch ${batchId}`);
    const job = (await this.jobs.findJob(batch.jobId))!;
    const participant = (await this.jobs.participants(job.id)).find((p) => p.institutionId === agent.institutionId);
    if (!participant)
      throw new ProblemException(HttpStatus.FORBIDDEN, 'Not a participant', 'this institution does not take part in the job');
    // An agent resending the very answer it already delivered (it crashed before the reply) is told
    // so even if the batch has closed since: nothing is stored twice.
    const envelopeSha256 = createHash('sha256').update(canonicalJson(body.envelope)).digest('hex');
    if (await this.jobs.hasSubmission(batch.id, agent.institutionId, envelopeSha256)) return { status: 'already_received' };
    if (participant.status !== 'active')
      throw new ProblemException(HttpStatus.CONFLICT, 'Participant stopped', 'this institution’s budget is exhausted for the job');
    if (job.status !== 'running') throw new ProblemException(HttpStatus.CONFLICT, 'Job not running', `the job is ${job.status}`);
    if (batch.status !== 'open') throw new ProblemException(HttpStatus.CONFLICT, 'Batch closed', `the batch is ${batch.status}`);
    if (typeof body.nonce !== 'string' || !NONCE.test(body.nonce)) {
      throw new InvalidInputException([{ field: 'body.nonce', message: 'must be 16 to 128 base64url characters' }]);
    }
    const task = (await this.tasks.find(job.taskId))!;
    const payload = this.openAnswer(body.envelope, agent.signingPublicKey, job, batch, body.nonce, 'body.');
    const checked = validateBatchAnswer(payload, {
      jobId: job.id,
      batchId: batch.id,
      attempt: batch.attempt,
      kind: answerKindOf(job.mechanism),
      queries: batch.queryIndices.length,
      classes: task.classes.length,
      teachers: participant.teachers,
      ...(job.mechanism.kind === 'gaussian_soft_labels' ? { clipNorm: job.mechanism.clipNorm } : {}),
    });
    if (!checked.ok) throw new InvalidInputException(checked.errors);
    const stored = await this.jobs.storeSubmission(batch, {
      institutionId: agent.institutionId,
      agentId: agent.id,
      signerPublicKey: agent.signingPublicKey,
      nonce: body.nonce,
      envelope: body.envelope,
      envelopeSha256,
      teachers: checked.value.teachers,
    });
    if (!stored.stored) {
      if ('closed' in stored)
        throw new ProblemException(HttpStatus.CONFLICT, 'Batch closed', 'the batch was aggregated or restarted meanwhile');
      if (stored.existingSha256 === envelopeSha256) return { status: 'already_received' };
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'Already answered',
        'this institution already answered this batch attempt with another payload',
      );
    }
    this.kick(batch.id);
    return { status: 'accepted' };
  }

  /** Starts aggregation in the background (the sweeper retries anything this misses). */
  kick(batchId: string): void {
    this.tryAggregate(batchId).catch((err: unknown) => this.logger.error({ err, batchId }, 'aggregation failed'));
  }

  private openAnswer(envelope: unknown, signerKeyBase64: string, job: JobRow, batch: BatchEntity, nonce: string, prefix: string): unknown {
    try {
      const opened = openEnvelope(
        envelope,
        this.keys.box.secretKey,
        base64ToBytes(signerKeyBase64, 'signer', 32),
        answerContext(job.id, batch.id, batch.attempt, nonce),
      );
      if (opened.kind !== 'json') throw new InvalidInputException([{ field: `${prefix}envelope`, message: 'must carry a JSON answer' }]);
      return opened.payload;
    } catch (err) {
      if (err instanceof EnvelopeError) throw new InvalidInputException([{ field: `${prefix}${err.field}`, message: err.message }]);
      throw err;
    }
  }

  /**
   * Aggregates a batch if it is due: every active participant answered, or the deadline passed
   * with at least `minTeachers` teachers present. A participant whose budget would be exceeded is
   * stopped for the job and the batch is aggregated again without it (fresh noise; nothing of the
   * first draw was released).
   */
  async tryAggregate(batchId: string): Promise<AggregationResult> {
    if (this.inFlight.has(batchId)) return 'skipped';
    this.inFlight.add(batchId);
    // Across replicas the batch is claimed in Postgres; in this process, inFlight avoids asking twice.
    if (!(await this.jobs.claimBatch(batchId, this.replicaId).catch(() => false))) {
      this.inFlight.delete(batchId);
      return 'skipped';
    }
    try {
      for (let round = 0; round < 1000; round++) {
        const batch = await this.jobs.findBatch(batchId);
        if (!batch || batch.status !== 'open') return 'skipped';
        const job = await this.jobs.findJob(batch.jobId);
        if (!job || job.status !== 'running') return 'skipped';
        const active = (await this.jobs.participants(job.id)).filter((p) => p.status === 'active');
        const activeIds = new Set(active.map((p) => p.institutionId));
        const subs = (await this.jobs.submissions(batch.id, batch.attempt)).filter((s) => activeIds.has(s.institutionId));
        const allIn = active.length > 0 && subs.length === active.length;
        const pastDeadline = Date.now() >= batch.deadlineAt.getTime();
        if (!allIn && !pastDeadline) return 'waiting';
        const teachers = subs.reduce((a, s) => a + s.teachers, 0);
        if (active.length === 0 || teachers < job.minTeachers) {
          if (active.length > 0 && !allIn && !pastDeadline) return 'waiting';
          if (active.length === 0 || allIn || batch.attempt >= MAX_BATCH_ATTEMPTS) {
            const reason =
              active.length === 0
                ? 'every participant’s budget is exhausted'
                : `batch ${batch.seq}: ${teachers} teachers answered, fewer than the ${job.minTeachers} required`;
            await this.failJob(job.id, reason);
            return 'failed';
          }
          await this.jobs.retryBatch(batch, job.batchDeadlineMs);
          this.logger.warn(
            { jobId: job.id, batch: batch.seq, teachers },
            'batch retried: too few teachers by the deadline (nothing charged)',
          );
          return 'retried';
        }
        const outcome = await this.aggregateAndCharge(job, batch, subs);
        if (outcome.status === 'charged') {
          if ((await this.jobs.findJob(job.id))?.status === 'completed') await this.dataDependent.publish(job.id);
          return 'released';
        }
        const stopped = outcome.refusals.map((r) => r.institutionId);
        await this.jobs.markExhausted(job.id, stopped);
        this.logger.warn({ jobId: job.id, batch: batch.seq, stopped }, 'participants stopped: their budget cannot pay for the batch');
      }
      return 'waiting';
    } finally {
      await this.jobs.releaseBatchLease(batchId, this.replicaId).catch(() => undefined);
      this.inFlight.delete(batchId);
    }
  }

  private async aggregateAndCharge(job: JobRow, batch: BatchEntity, subs: SubmissionRow[]) {
    // Answers were validated when they arrived; they are stored sealed and opened only here.
    const answers = subs.map((s) => this.openAnswer(s.envelope, s.signerPublicKey, job, batch, s.nonce, '') as BatchAnswerPayload);
    const result = aggregateBatch(
      job.mechanism,
      answers.map((a) => a.rows),
    );
    const event = batchEvent(job.mechanism, batch.queryIndices.length, result.answered);
    return this.ledger.chargeAndRelease({
      jobId: job.id,
      batchId: `batch-${batch.seq}`,
      charges: subs.map((s) => ({ institutionId: s.institutionId, event })),
      release: (scope) => this.release(scope, job.id, batch, result, event),
    });
  }

  /** Runs inside the charge transaction: labels, batch state and job progress commit with the charge or not at all. */
  private async release(
    scope: TransactionScope,
    jobId: string,
    batch: BatchEntity,
    result: ReturnType<typeof aggregateBatch>,
    event: unknown,
  ): Promise<void> {
    const job = await this.jobs.findJob(jobId, scope, true);
    if (!job || job.status !== 'running') throw new Error(`job ${jobId} is no longer running`);
    const updated = await scope.query(
      `WITH released AS (
         UPDATE batches SET status = 'released', released_at = now(), answered = $3, event = $4::jsonb
          WHERE id = $1 AND attempt = $2 AND status = 'open' RETURNING id)
       SELECT id FROM released`,
      [batch.id, batch.attempt, result.answered, JSON.stringify(event)],
    );
    if (updated.length !== 1) throw new Error(`batch ${batch.id} is no longer open`);
    await scope.query(
      `INSERT INTO released_labels (job_id, query_index, batch_id, answered, label, soft)
       SELECT $1, q, $2, a, l, CASE WHEN s = 'null'::jsonb THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(s)::float8) END
         FROM unnest($3::int[], $4::boolean[], $5::int[], $6::jsonb[]) AS t(q, a, l, s)`,
      [
        jobId,
        batch.id,
        batch.queryIndices,
        result.labels.map((l) => l.answered),
        result.labels.map((l) => l.label),
        result.labels.map((l) => JSON.stringify(l.soft)),
      ],
    );
    await scope.query(`UPDATE jobs SET released = released + $2, answered = answered + $3 WHERE id = $1`, [
      jobId,
      batch.queryIndices.length,
      result.answered,
    ]);
    const next = await this.jobs.openNextBatch(scope, job);
    if (!next && job.released + batch.queryIndices.length >= job.queries) {
      await this.jobs.setJobStatus(scope, jobId, ['running'], 'completed');
      // The student is queued in the same transaction: a completed job always gets one.
      await scope.query(`INSERT INTO students (job_id) VALUES ($1) ON CONFLICT DO NOTHING`, [jobId]);
    }
  }

  private async failJob(jobId: string, reason: string): Promise<void> {
    await this.jobs.transaction(async (scope) => {
      if (await this.jobs.setJobStatus(scope, jobId, ['running'], 'failed', reason)) await this.jobs.failOpenBatches(scope, jobId);
    });
    this.logger.warn({ jobId, reason }, 'job failed');
  }
}
