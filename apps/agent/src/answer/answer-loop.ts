import { createHash } from 'node:crypto';
import { canonicalJson, type Identity, sealAndSign } from '@concord/crypto';
import { answerContext, type BatchAnswerPayload, type BatchAssignment, PROTOCOL_VERSION } from '@concord/protocol';
import { AgentError, EXIT } from '../cli/errors';
import type { AuditLog } from '../store/audit-log';
import type { Enrollment, LocalCap } from '../store/config';
import type { PendingAnswer, PendingAnswerStore } from '../store/pending-answer';
import type { LocalPrivacyLedger } from '../store/privacy-ledger';
import { checkTeacherOutputs, clippedProbabilitySums, voteHistograms } from '../training/ensemble-rows';
import type { TeacherEnsemble } from '../training/teachers';
import { verifiedCoordinatorBoxKey } from '../transport/coordinator-box-key';
import type { CoordinatorClient } from '../transport/coordinator-client';
import { sleep, TransientError } from '../transport/retry';
import { batchProblems } from './batch-check';
import { decideAgainstCap } from './batch-cost';

export interface AnswerLoopDeps {
  client: CoordinatorClient;
  identity: Identity;
  enrollment: Enrollment;
  cap: LocalCap;
  ledger: LocalPrivacyLedger;
  audit: AuditLog;
  pending: PendingAnswerStore;
  teachers: TeacherEnsemble;
  /** Answer what is available, then return instead of polling. */
  once: boolean;
  pollIntervalMs: number;
  /** Aborted by SIGTERM/SIGINT: the loop finishes the request in hand and returns. */
  signal: AbortSignal;
  log: (message: string) => void;
  now?: () => Date;
}

export interface AnswerLoopResult {
  answered: number;
  resent: number;
  stoppedBy: 'idle' | 'signal';
}

/** Thrown when the local cap refuses a batch; carries the figures the operator needs. */
export class LocalCapReached extends AgentError {
  constructor(
    readonly batch: { jobId: string; batchId: string; seq: number; attempt: number; queries: number },
    readonly epsilonBefore: number,
    readonly epsilonAfter: number,
    readonly cap: LocalCap,
  ) {
    super(
      `local privacy cap reached: refusing batch ${batch.batchId} (job ${batch.jobId}, seq ${batch.seq}, attempt ${batch.attempt}, ` +
        `${batch.queries} queries): ε would go from ${epsilonBefore.toFixed(4)} to ${epsilonAfter.toFixed(4)} ` +
        `at δ=${cap.delta}, above the local cap ε=${cap.epsilon}. Nothing was sent. ` +
        'Raise the cap with `concord-agent budget --cap E --delta D` only if your governance allows it.',
      EXIT.localCapReached,
    );
  }
}

function randomNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

/**
 * The agent's answering loop. For each batch: check it, cost it against the LOCAL cap (refuse and
 * stop if it does not fit), charge the local ledger, run the teachers, fold their outputs into one
 * row per query, seal and sign, persist the sealed body, then send. Nothing reaches the network
 * before the charge is on disk.
 */
export async function runAnswerLoop(deps: AnswerLoopDeps): Promise<AnswerLoopResult> {
  const now = deps.now ?? (() => new Date());
  const result: AnswerLoopResult = { answered: 0, resent: 0, stoppedBy: 'idle' };
  // Before any request: answers are sealed only to a box key signed by the pinned signing key.
  const boxKey = verifiedCoordinatorBoxKey({
    pinnedSigningPublicKey: deps.enrollment.coordinatorSigningPublicKey,
    boxPublicKey: deps.enrollment.coordinatorBoxPublicKey,
    boxKeySignature: deps.enrollment.coordinatorBoxKeySignature,
    source: 'the enrollment in agent.json',
  });

  try {
    const leftover = await deps.pending.read();
    if (leftover !== null) {
      deps.log(`resending the sealed answer to ${leftover.batchId} (attempt ${leftover.attempt}) left from an interrupted run`);
      await deliver(deps, leftover, now);
      result.resent++;
    }
    for (;;) {
      if (deps.signal.aborted) {
        result.stoppedBy = 'signal';
        return result;
      }
      const batch = await deps.client.nextBatch();
      if (batch === null) {
        if (deps.once) return result;
        await sleep(deps.pollIntervalMs, deps.signal);
        continue;
      }
      await answerBatch(deps, batch, now, boxKey);
      result.answered++;
    }
  } catch (error) {
    // A signal during a retry wait ends the retries; an unacknowledged answer stays pending.
    if (error instanceof TransientError && deps.signal.aborted) {
      result.stoppedBy = 'signal';
      return result;
    }
    throw error;
  }
}

async function answerBatch(deps: AnswerLoopDeps, batch: BatchAssignment, now: () => Date, boxKey: Uint8Array): Promise<void> {
  const problems = batchProblems(batch);
  if (problems.length > 0) throw new AgentError(`batch ${String(batch.batchId)} is malformed, not answered: ${problems.join('; ')}`);
  const queries = batch.queries.length;
  const label = { jobId: batch.jobId, batchId: batch.batchId, seq: batch.seq, attempt: batch.attempt, queries };

  // 1. The local cap, whatever the coordinator's own accounting says.
  if (deps.ledger.hasCharge(batch.jobId, batch.batchId, batch.attempt)) {
    deps.log(`batch ${batch.batchId} attempt ${batch.attempt} is already charged locally (resuming)`);
  } else {
    const decision = decideAgainstCap(deps.ledger, deps.cap, batch.mechanism, queries);
    if (!decision.fits) {
      const refusal = new LocalCapReached(label, decision.epsilonBefore, decision.epsilonAfter, deps.cap);
      deps.log(refusal.message);
      throw refusal;
    }
    await deps.ledger.append({
      kind: 'charge',
      jobId: batch.jobId,
      batchId: batch.batchId,
      seq: batch.seq,
      attempt: batch.attempt,
      event: decision.event,
      rdp: decision.rdp,
      epsilonBefore: decision.epsilonBefore,
      epsilonAfter: decision.epsilonAfter,
      delta: deps.cap.delta,
      time: now().toISOString(),
    });
    deps.log(
      `batch ${batch.batchId} (job ${batch.jobId}, ${queries} queries): local ε ${decision.epsilonBefore.toFixed(4)} → ${decision.epsilonAfter.toFixed(4)} of cap ${deps.cap.epsilon}`,
    );
  }

  // 2. The teachers, folded into one institution-level row per query.
  const classes = batch.classes.length;
  const outputs = checkTeacherOutputs(await deps.teachers.predict(batch.queries.map((q) => q.features)), queries, classes);
  const k = outputs.length;
  if (deps.enrollment.teachers !== null && deps.enrollment.teachers !== k) {
    deps.log(`warning: ${k} teachers answered but ${deps.enrollment.teachers} were declared at enrollment`);
  }
  if (batch.teachers !== null && batch.teachers !== k) {
    throw new AgentError(
      `the coordinator expects ${batch.teachers} teachers for job ${batch.jobId} (declared earlier) but ${k} answered`,
      EXIT.configuration,
    );
  }
  const rows =
    batch.answerKind === 'probabilities' && batch.mechanism.kind === 'gaussian_soft_labels'
      ? clippedProbabilitySums(outputs, classes, batch.mechanism.clipNorm)
      : voteHistograms(outputs, classes);

  // 3. Seal, persist, log, send.
  const payload: BatchAnswerPayload = {
    protocolVersion: PROTOCOL_VERSION,
    jobId: batch.jobId,
    batchId: batch.batchId,
    attempt: batch.attempt,
    kind: batch.answerKind,
    teachers: k,
    rows,
  };
  const nonce = randomNonce();
  const envelope = sealAndSign({
    payload,
    recipientBoxPublicKey: boxKey,
    senderSigning: deps.identity.signing.secretKey,
    context: answerContext(batch.jobId, batch.batchId, batch.attempt, nonce),
  });
  const envelopeSha256 = createHash('sha256').update(canonicalJson(envelope)).digest('hex');
  const pending: PendingAnswer = {
    version: 1,
    coordinatorUrl: deps.client.baseUrl,
    jobId: batch.jobId,
    batchId: batch.batchId,
    seq: batch.seq,
    attempt: batch.attempt,
    envelopeSha256,
    body: { nonce, envelope },
    sealedAt: now().toISOString(),
  };
  await deps.pending.write(pending);
  await deps.audit.append({
    type: 'sealed',
    time: pending.sealedAt,
    jobId: batch.jobId,
    batchId: batch.batchId,
    seq: batch.seq,
    attempt: batch.attempt,
    coordinatorUrl: deps.client.baseUrl,
    queryIndices: batch.queries.map((q) => q.index),
    kind: batch.answerKind,
    teachers: k,
    rows,
    nonce,
    envelopeSha256,
  });
  await deliver(deps, pending, now);
}

/** Sends a persisted answer and settles it; the pending file stays only if the outcome is unknown. */
async function deliver(deps: AnswerLoopDeps, pending: PendingAnswer, now: () => Date): Promise<void> {
  if (pending.coordinatorUrl !== deps.client.baseUrl) {
    throw new AgentError(
      `the pending answer to ${pending.batchId} was sealed for ${pending.coordinatorUrl}, not ${deps.client.baseUrl}: run with --url ${pending.coordinatorUrl}`,
      EXIT.configuration,
    );
  }
  const verdict = await deps.client.submitAnswer(pending.batchId, pending.body);
  const base = {
    time: now().toISOString(),
    jobId: pending.jobId,
    batchId: pending.batchId,
    attempt: pending.attempt,
    envelopeSha256: pending.envelopeSha256,
  };
  switch (verdict.outcome) {
    case 'accepted':
    case 'already_received':
      await deps.audit.append({ type: 'acknowledged', ...base, outcome: verdict.outcome, httpStatus: verdict.httpStatus });
      await deps.pending.clear();
      deps.log(
        `batch ${pending.batchId}: ${verdict.outcome === 'accepted' ? 'answer accepted' : 'answer already received (resent after an interruption)'}`,
      );
      return;
    case 'batch_closed':
      await deps.audit.append({
        type: 'acknowledged',
        ...base,
        outcome: 'batch_closed',
        httpStatus: verdict.httpStatus,
        detail: verdict.detail,
      });
      await deps.pending.clear();
      deps.log(`batch ${pending.batchId}: not taken (${verdict.detail}); moving on`);
      return;
    case 'rejected': {
      if (verdict.retryLater) {
        throw new AgentError(
          `batch ${pending.batchId}: the coordinator refused the request (${verdict.detail}); check the clock and enrollment, the answer is kept and resent on the next run`,
        );
      }
      await deps.audit.append({
        type: 'acknowledged',
        ...base,
        outcome: 'rejected',
        httpStatus: verdict.httpStatus,
        detail: verdict.detail,
      });
      const kept = await deps.pending.reject(pending);
      throw new AgentError(
        `batch ${pending.batchId}: the coordinator rejected the answer (HTTP ${verdict.httpStatus}: ${verdict.detail}); kept in ${kept}`,
        EXIT.answerRejected,
      );
    }
  }
}
