import { type BatchAssignment, PROTOCOL_VERSION } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { batchProblems } from './batch-check';

function batch(mechanism: Record<string, unknown>, answerKind: string): BatchAssignment {
  return {
    protocolVersion: PROTOCOL_VERSION,
    jobId: 'job',
    batchId: 'batch',
    seq: 1,
    attempt: 1,
    deadline: new Date().toISOString(),
    mechanism,
    answerKind,
    classes: ['a', 'b'],
    queries: [{ index: 0, features: [1, 2] }],
  } as unknown as BatchAssignment;
}

describe("the agent's own check of a soft-label batch", () => {
  it('accepts votes at clipNorm 1 answered as votes, and probabilities answered as probabilities', () => {
    expect(batchProblems(batch({ kind: 'gaussian_soft_labels', sigma: 9, clipNorm: 1, teacherOutput: 'votes' }, 'votes'))).toEqual([]);
    expect(batchProblems(batch({ kind: 'gaussian_soft_labels', sigma: 9, clipNorm: 0.5 }, 'probabilities'))).toEqual([]);
  });

  it('refuses votes it would cost with a clipNorm other than 1, an unknown output, and a mismatched answer kind', () => {
    expect(batchProblems(batch({ kind: 'gaussian_soft_labels', sigma: 9, clipNorm: 0.5, teacherOutput: 'votes' }, 'votes'))).toEqual([
      'mechanism.clipNorm must be 1 with teacherOutput "votes" (a vote has norm 1)',
    ]);
    expect(batchProblems(batch({ kind: 'gaussian_soft_labels', sigma: 9, clipNorm: 1, teacherOutput: 'logits' }, 'probabilities'))).toEqual(
      ['mechanism.teacherOutput must be "probabilities" or "votes"'],
    );
    expect(batchProblems(batch({ kind: 'gaussian_soft_labels', sigma: 9, clipNorm: 1, teacherOutput: 'votes' }, 'probabilities'))).toEqual([
      'answerKind probabilities does not match mechanism gaussian_soft_labels',
    ]);
  });
});
