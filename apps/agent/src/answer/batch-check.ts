import { answerKindOf, type BatchAssignment, PROTOCOL_VERSION, teacherOutputProblem } from '@concord/protocol';

/**
 * The agent's own check of a batch before it runs the teachers or charges anything: the shape it
 * relies on, and mechanism parameters it can cost. Returns the problems found (none = usable).
 */
export function batchProblems(batch: BatchAssignment): string[] {
  const problems: string[] = [];
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if ((batch.protocolVersion as number) !== PROTOCOL_VERSION)
    problems.push(`protocolVersion ${String(batch.protocolVersion)} is not ${String(PROTOCOL_VERSION)}`);
  if (typeof batch.jobId !== 'string' || typeof batch.batchId !== 'string' || batch.batchId === '') problems.push('jobId/batchId missing');
  if (!Number.isInteger(batch.attempt) || batch.attempt < 1) problems.push('attempt must be a positive integer');
  const m = batch.mechanism as BatchAssignment['mechanism'] | undefined;
  switch (m?.kind) {
    case 'gnmax':
      if (!positive(m.sigma)) problems.push('mechanism.sigma must be positive');
      break;
    case 'confident_gnmax':
      if (!positive(m.sigma1) || !positive(m.sigma2) || !positive(m.threshold))
        problems.push('mechanism threshold, sigma1, sigma2 must be positive');
      break;
    case 'gaussian_soft_labels':
      if (!positive(m.sigma) || !positive(m.clipNorm)) problems.push('mechanism sigma, clipNorm must be positive');
      {
        // The agent costs the batch with clipNorm: votes (norm 1) are covered only if it is 1.
        const problem = teacherOutputProblem(m.teacherOutput, m.clipNorm);
        if (problem !== null) problems.push(`mechanism.${problem.field} ${problem.message}`);
      }
      break;
    case undefined:
      problems.push('unknown mechanism');
      break;
    default:
      problems.push(`unknown mechanism ${String((m as { kind: unknown }).kind)}`);
  }
  if (m?.kind !== undefined && batch.answerKind !== answerKindOf(m))
    problems.push(`answerKind ${batch.answerKind} does not match mechanism ${m.kind}`);
  if (!Array.isArray(batch.classes) || batch.classes.length < 2) problems.push('classes must list at least two classes');
  if (!Array.isArray(batch.queries) || batch.queries.length === 0) problems.push('queries must not be empty');
  else if (
    !batch.queries.every(
      (q) => Number.isInteger(q.index) && Array.isArray(q.features) && q.features.every((v) => typeof v === 'number' && Number.isFinite(v)),
    )
  ) {
    problems.push('every query needs an integer index and numeric features');
  }
  return problems;
}
