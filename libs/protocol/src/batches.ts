import type { Envelope } from '@concord/crypto';
import { MAX_TEACHERS } from './enrollment';
import { checkKnownFields, FieldErrors, isRecord, type Validated } from './validation';
import { PROTOCOL_VERSION } from './version';

/**
 * The batch protocol: an agent fetches the next batch of public queries for its institution, runs
 * its teachers, and answers with ONE institution-level aggregate per query — the vote histogram of
 * its k teachers (or the sum of their clipped probability vectors) — sealed to the coordinator's
 * box key and signed with the agent's key. Per-teacher outputs and training data never travel.
 */

/** The public parameters of a job's aggregation mechanism (agents use them to enforce their own cap). */
export type MechanismSpec =
  | { kind: 'gnmax'; sigma: number }
  | { kind: 'confident_gnmax'; threshold: number; sigma1: number; sigma2: number }
  | { kind: 'gaussian_soft_labels'; sigma: number; clipNorm: number; teacherOutput?: SoftLabelTeacherOutput };

/**
 * What each teacher contributes to a soft-label sum: its probability vector clipped to L2 norm
 * `clipNorm` (the default), or its one-hot vote — a vector of norm 1, so only with clipNorm 1, and
 * then the released sums are the noisy vote histogram.
 */
export type SoftLabelTeacherOutput = 'probabilities' | 'votes';

/**
 * Why a soft-label job's `teacherOutput` / `clipNorm` pair is unusable, or null. A vote is a
 * one-hot vector of norm 1, so its sensitivity is √2 exactly at clipNorm 1: a smaller clipNorm
 * would understate the cost, a larger one would overcharge for nothing. The coordinator refuses
 * such a job and the agent such a batch (it costs the batch with clipNorm).
 */
export function teacherOutputProblem(
  teacherOutput: unknown,
  clipNorm: unknown,
): { field: 'teacherOutput' | 'clipNorm'; message: string } | null {
  if (teacherOutput === undefined || teacherOutput === 'probabilities') return null;
  if (teacherOutput !== 'votes') return { field: 'teacherOutput', message: 'must be "probabilities" or "votes"' };
  return clipNorm === 1 ? null : { field: 'clipNorm', message: 'must be 1 with teacherOutput "votes" (a vote has norm 1)' };
}

export type AnswerKind = 'votes' | 'probabilities';

export function answerKindOf(mechanism: MechanismSpec): AnswerKind {
  return mechanism.kind === 'gaussian_soft_labels' && mechanism.teacherOutput !== 'votes' ? 'probabilities' : 'votes';
}

export interface BatchQuery {
  /** Index of the example in the task's public pool. */
  index: number;
  features: number[];
}

/** GET /agent/batches/next → the batch an institution should answer now. */
export interface BatchAssignment {
  protocolVersion: typeof PROTOCOL_VERSION;
  jobId: string;
  batchId: string;
  seq: number;
  attempt: number;
  deadline: string;
  mechanism: MechanismSpec;
  answerKind: AnswerKind;
  classes: string[];
  inputSpec: unknown;
  /** δ of the job (for the agent's own accounting). */
  delta: number;
  /** Teachers this institution declared earlier in the job; its answers must keep the same count. */
  teachers: number | null;
  queries: BatchQuery[];
}

/** The plaintext an agent seals: one row per query of the batch, in the batch's order. */
export interface BatchAnswerPayload {
  protocolVersion: typeof PROTOCOL_VERSION;
  jobId: string;
  batchId: string;
  attempt: number;
  kind: AnswerKind;
  /** k, the number of the institution's teachers that answered (each record is in one of them). */
  teachers: number;
  rows: number[][];
}

/** POST /agent/batches/{batchId}/answers. The envelope's signed context is {batchId, nonce, jobId, attempt}. */
export interface BatchAnswerRequest {
  nonce: string;
  envelope: Envelope;
}

export interface AnswerExpectations {
  jobId: string;
  batchId: string;
  attempt: number;
  kind: AnswerKind;
  queries: number;
  classes: number;
  /** Set once the institution has declared its teachers for this job. */
  teachers: number | null;
  /** Soft labels: each teacher's vector has L2 norm ≤ clipNorm. */
  clipNorm?: number;
}

/**
 * Checks a decrypted answer against what the batch expects: versions and ids, one row per query,
 * one entry per class; vote rows are non-negative integers summing to the declared teacher count;
 * probability rows are non-negative with L2 norm ≤ teachers·clipNorm (what k clipped vectors can sum
 * to). Every problem is reported with its field path.
 */
export function validateBatchAnswer(payload: unknown, expected: AnswerExpectations): Validated<BatchAnswerPayload> {
  const errors = new FieldErrors();
  if (!isRecord(payload)) {
    errors.add('payload', 'must be a JSON object');
    return errors.failure();
  }
  checkKnownFields(payload, ['protocolVersion', 'jobId', 'batchId', 'attempt', 'kind', 'teachers', 'rows'], errors);
  if (payload.protocolVersion !== PROTOCOL_VERSION) errors.add('payload.protocolVersion', `must be ${PROTOCOL_VERSION}`);
  if (payload.jobId !== expected.jobId) errors.add('payload.jobId', 'is not the job of this batch');
  if (payload.batchId !== expected.batchId) errors.add('payload.batchId', 'is not this batch');
  if (payload.attempt !== expected.attempt) errors.add('payload.attempt', `must be the batch's current attempt (${expected.attempt})`);
  if (payload.kind !== expected.kind) errors.add('payload.kind', `must be "${expected.kind}" for this job's mechanism`);
  const teachers = payload.teachers;
  if (typeof teachers !== 'number' || !Number.isInteger(teachers) || teachers < 1 || teachers > MAX_TEACHERS) {
    errors.add('payload.teachers', `must be an integer from 1 to ${MAX_TEACHERS}`);
  } else if (expected.teachers !== null && teachers !== expected.teachers) {
    errors.add('payload.teachers', `must stay ${expected.teachers}, the count declared earlier in this job`);
  }
  const rows = payload.rows;
  if (!Array.isArray(rows) || rows.length !== expected.queries) {
    errors.add('payload.rows', `must hold exactly ${expected.queries} rows, one per query`);
    return errors.failure();
  }
  const k = typeof teachers === 'number' ? teachers : NaN;
  for (let i = 0; i < rows.length && errors.count < 20; i++) {
    const row: unknown = rows[i];
    const field = `payload.rows[${i}]`;
    if (!Array.isArray(row) || row.length !== expected.classes) {
      errors.add(field, `must hold exactly ${expected.classes} numbers, one per class`);
      continue;
    }
    if (!row.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      errors.add(field, 'must hold finite, non-negative numbers');
      continue;
    }
    const values = row as number[];
    if (expected.kind === 'votes') {
      if (!values.every((v) => Number.isInteger(v))) errors.add(field, 'vote counts must be integers');
      else if (values.reduce((a, b) => a + b, 0) !== k) errors.add(field, `votes must sum to the ${String(teachers)} teachers`);
    } else {
      const norm = Math.sqrt(values.reduce((a, b) => a + b * b, 0));
      const bound = k * (expected.clipNorm ?? 1);
      if (!(norm <= bound * (1 + 1e-9))) errors.add(field, `L2 norm ${norm} exceeds teachers × clipNorm = ${bound}`);
    }
  }
  if (errors.count > 0) return errors.failure();
  return {
    ok: true,
    value: {
      protocolVersion: PROTOCOL_VERSION,
      jobId: expected.jobId,
      batchId: expected.batchId,
      attempt: expected.attempt,
      kind: expected.kind,
      teachers: k,
      rows: rows as number[][],
    },
  };
}

/** The signed context of an answer envelope: binds it to one batch attempt and one request nonce. */
export function answerContext(
  jobId: string,
  batchId: string,
  attempt: number,
  nonce: string,
): { batchId: string; nonce: string; jobId: string; attempt: number } {
  return { batchId, nonce, jobId, attempt };
}
