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
import { type BatchReleaser, LedgerService, releaseWith } from '../ledger/ledger.service';
import type { TransactionScope } from '../ledger/ledger.repository';
import { TasksRepository } from '../tasks/tasks.repository';
import type { BatchEntity } from './entities/batch.entity';
import { DataDependentService } from './data-dependent.service';
import { type JobRow, JobsRepository, type SubmissionRow } from './jobs.repository';
import { batchEvent } from './mechanism';
import { poolExampleOf } from './query-selection';

/** A batch that cannot gather enough teachers is retried this many times before the job fails. */
export const MAX_BATCH_ATTEMPTS = 3;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export type AggregationResult = 'released' | 'waiting' | 'retried' | 'failed' | 'skipped';

/**
 * How long a batch lease lasts unless renewed: at most this long does a batch wait for another
 * process after the coordinator aggregating it died.
 */
export const BATCH_LEASE_MS = 5_000;
/** The owner renews its lease this often while it aggregates (a few renewals fit in one lease). */
const LEASE_RENEW_MS = 1_500;

/** A lease this process holds on a batch, renewed in the background. */
interface BatchLease {
  /** Another process took the batch after the lease lapsed (this one stalled): stop, it is theirs. */
  lost: boolean;
  stop(): void;
}

/** One charged batch's release, as the batched releaser writes it. */
interface ReleaseItem {
  jobId: string;
  batch: BatchEntity;
  result: ReturnType<typeof aggregateBatch>;
  event: unknown;
}

interface Released {
  /** The release completed the job. */
  completed: boolean;
}

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
  /** Batches asked about while in flight here: looked at again once the running attempt ends. */
  private readonly recheck = new Set<string>();
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
    const queries = await this.tasks.queryExamples(task.id, batch.queryIndices, job.queries - job.evaluationQueries, (q) =>
      poolExampleOf(job, q),
    );
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
   *
   * Across processes the batch is held under a short lease (`BATCH_LEASE_MS`), taken only when the
   * batch is due and renewed while the aggregation runs: a coordinator that dies mid-aggregation
   * leaves a lease that lapses within seconds, and the sweeper of any process (or of the restarted
   * one) then takes the batch. Should a stalled owner's lease lapse and another take the batch, the
   * ledger still charges each (job, batch, institution) once and the release requires the batch
   * still open, so nothing is charged or released twice.
   */
  async tryAggregate(batchId: string): Promise<AggregationResult> {
    if (this.inFlight.has(batchId)) {
      // Looked at again when the running attempt ends: this call may bring the answer it lacked.
      this.recheck.add(batchId);
      return 'skipped';
    }
    this.inFlight.add(batchId);
    let lease: BatchLease | undefined;
    let result: AggregationResult = 'skipped';
    try {
      if (!(await this.jobs.claimBatch(batchId, this.replicaId, BATCH_LEASE_MS).catch(() => false))) return result;
      lease = this.holdLease(batchId);
      result = await this.aggregateLeased(batchId, lease);
      return result;
    } finally {
      if (lease) {
        lease.stop();
        await this.jobs.releaseBatchLease(batchId, this.replicaId).catch(() => undefined);
      }
      this.inFlight.delete(batchId);
      if (this.recheck.delete(batchId) && (result === 'skipped' || result === 'waiting')) this.kick(batchId);
    }
  }

  /** Renews the lease every `LEASE_RENEW_MS` until stopped; `lost` once another process has taken it. */
  private holdLease(batchId: string): BatchLease {
    let stopped = false;
    let renewing = false;
    const lease: BatchLease = {
      lost: false,
      stop: () => {
        stopped = true;
        clearInterval(timer);
      },
    };
    const timer = setInterval(() => {
      if (renewing || stopped) return;
      renewing = true;
      this.jobs
        .renewBatchLease(batchId, this.replicaId, BATCH_LEASE_MS)
        .then(
          (held) => {
            if (held || stopped || lease.lost) return;
            lease.lost = true;
            this.logger.warn({ batchId }, 'batch lease lapsed and was taken by another process');
          },
          (err: unknown) => this.logger.warn({ err, batchId }, 'batch lease renewal failed'),
        )
        .finally(() => (renewing = false));
    }, LEASE_RENEW_MS);
    timer.unref();
    return lease;
  }

  private async aggregateLeased(batchId: string, lease: BatchLease): Promise<AggregationResult> {
    for (let round = 0; round < 1000; round++) {
      if (lease.lost) return 'skipped';
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
      if (lease.lost) return 'skipped';
      const outcome = await this.aggregateAndCharge(job, batch, subs);
      if (outcome.status === 'charged') {
        const completed = outcome.replayed ? (await this.jobs.findJob(job.id))?.status === 'completed' : outcome.released.completed;
        if (completed) await this.dataDependent.publish(job.id);
        return 'released';
      }
      const stopped = outcome.refusals.map((r) => r.institutionId);
      await this.jobs.markExhausted(job.id, stopped);
      this.logger.warn({ jobId: job.id, batch: batch.seq, stopped }, 'participants stopped: their budget cannot pay for the batch');
    }
    return 'waiting';
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
      release: releaseWith(this.releaser, { jobId: job.id, batch, result, event }),
    });
  }

  /**
   * Writes the releases of every batch charged in one ledger group, inside the charge transaction:
   * labels, batch state and job progress commit with the charges or not at all. A failure (a job no
   * longer running, a batch no longer open) throws; the ledger then runs each call alone, so the
   * failure is that call's only.
   */
  private readonly releaser: BatchReleaser<ReleaseItem, Released> = {
    releaseAll: async (scope, items) => {
      // Rounds in which every job appears at most once (a job has one open batch, so normally a
      // single round): each job's releases are applied in arrival order, as one at a time would.
      const rounds: number[][] = [];
      const perJob = new Map<string, number>();
      items.forEach((item, i) => {
        const r = perJob.get(item.jobId) ?? 0;
        perJob.set(item.jobId, r + 1);
        (rounds[r] ??= []).push(i);
      });
      const results: Released[] = new Array<Released>(items.length);
      for (const round of rounds) {
        const released = await this.releaseRound(
          scope,
          round.map((i) => items[i]),
        );
        round.forEach((i, k) => (results[i] = released[k]));
      }
      return results;
    },
  };

  /** Releases batches of distinct jobs: a fixed number of statements, however many batches. */
  private async releaseRound(scope: TransactionScope, items: readonly ReleaseItem[]): Promise<Released[]> {
    const jobIds = items.map((r) => r.jobId);
    // Job rows locked in one order (by id), whatever the order of the calls.
    const locked = await scope.query<{ id: string; status: string }>(
      `SELECT id, status FROM jobs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [jobIds],
    );
    const running = new Set(locked.filter((j) => j.status === 'running').map((j) => j.id));
    const stopped = jobIds.find((id) => !running.has(id));
    if (stopped) throw new Error(`job ${stopped} is no longer running`);
    const labels = items.flatMap((r) =>
      r.result.labels.map((l, k) => ({ jobId: r.jobId, batchId: r.batch.id, query: r.batch.queryIndices[k], l })),
    );
    const released = await scope.query<{ id: string }>(
      `WITH released AS (
         UPDATE batches b SET status = 'released', released_at = now(), answered = t.answered, event = t.event
           FROM unnest($1::uuid[], $2::int[], $3::int[], $4::jsonb[]) AS t(id, attempt, answered, event)
          WHERE b.id = t.id AND b.attempt = t.attempt AND b.status = 'open' RETURNING b.id),
       labelled AS (
         INSERT INTO released_labels (job_id, query_index, batch_id, answered, label, soft)
         SELECT j, q, bid, a, l, CASE WHEN s = 'null'::jsonb THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(s)::float8) END
           FROM unnest($5::uuid[], $6::int[], $7::uuid[], $8::boolean[], $9::int[], $10::jsonb[]) AS t(j, q, bid, a, l, s)
          WHERE bid IN (SELECT id FROM released))
       SELECT id FROM released`,
      [
        items.map((r) => r.batch.id),
        items.map((r) => r.batch.attempt),
        items.map((r) => r.result.answered),
        items.map((r) => JSON.stringify(r.event)),
        labels.map((x) => x.jobId),
        labels.map((x) => x.query),
        labels.map((x) => x.batchId),
        labels.map((x) => x.l.answered),
        labels.map((x) => x.l.label),
        labels.map((x) => JSON.stringify(x.l.soft)),
      ],
    );
    const releasedIds = new Set(released.map((r) => r.id));
    const closed = items.find((r) => !releasedIds.has(r.batch.id));
    if (closed) throw new Error(`batch ${closed.batch.id} is no longer open`);
    const progressed = await scope.query<{ id: string; released: number; queries: number }>(
      `WITH progressed AS (
         UPDATE jobs j SET released = j.released + t.released, answered = j.answered + t.answered
           FROM unnest($1::uuid[], $2::int[], $3::int[]) AS t(id, released, answered)
          WHERE j.id = t.id RETURNING j.id, j.released, j.queries)
       SELECT id, released, queries FROM progressed`,
      [jobIds, items.map((r) => r.batch.queryIndices.length), items.map((r) => r.result.answered)],
    );
    const opened = await this.jobs.openNextBatches(scope, jobIds);
    const completed = new Set(progressed.filter((j) => !opened.has(j.id) && j.released >= j.queries).map((j) => j.id));
    for (const jobId of completed) await this.jobs.setJobStatus(scope, jobId, ['running'], 'completed');
    if (completed.size > 0) {
      // The student is queued in the same transaction: a completed job always gets one.
      await scope.query(`INSERT INTO students (job_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING`, [[...completed]]);
    }
    return items.map((r) => ({ completed: completed.has(r.jobId) }));
  }

  private async failJob(jobId: string, reason: string): Promise<void> {
    await this.jobs.transaction(async (scope) => {
      if (await this.jobs.setJobStatus(scope, jobId, ['running'], 'failed', reason)) await this.jobs.failOpenBatches(scope, jobId);
    });
    this.logger.warn({ jobId, reason }, 'job failed');
  }
}
