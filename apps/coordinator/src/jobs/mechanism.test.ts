import { answerKindOf } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { InvalidInputException } from '../common/problem';
import { batchEvent, parseMechanism } from './mechanism';

function fieldsOf(value: unknown): string[] {
  try {
    parseMechanism(value);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputException);
    return ((err as InvalidInputException).errors ?? []).map((e) => e.field);
  }
  return [];
}

describe('soft labels over the teachers’ votes', () => {
  it('are asked for with teacherOutput "votes" and clipNorm 1, answered as vote histograms, and cost gaussian_soft_labels(σ, 1)', () => {
    const votes = parseMechanism({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1, teacherOutput: 'votes' });
    expect(votes).toEqual({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1, teacherOutput: 'votes' });
    expect(answerKindOf(votes)).toBe('votes');
    expect(batchEvent(votes, 8, 8)).toEqual({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1, queries: 8 });
    // Without teacherOutput (or with "probabilities") teachers send clipped probability sums.
    expect(answerKindOf(parseMechanism({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 0.5 }))).toBe('probabilities');
    const explicit = parseMechanism({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 0.5, teacherOutput: 'probabilities' });
    expect(answerKindOf(explicit)).toBe('probabilities');
  });

  it('refuse a clipNorm other than 1 (a vote has norm 1), an unknown output, and teacherOutput on other mechanisms', () => {
    expect(fieldsOf({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 0.5, teacherOutput: 'votes' })).toEqual([
      'body.mechanism.clipNorm',
    ]);
    expect(fieldsOf({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 2, teacherOutput: 'votes' })).toEqual([
      'body.mechanism.clipNorm',
    ]);
    expect(fieldsOf({ kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1, teacherOutput: 'logits' })).toEqual([
      'body.mechanism.teacherOutput',
    ]);
    expect(fieldsOf({ kind: 'gnmax', sigma: 40, teacherOutput: 'votes' })).toEqual(['body.mechanism.teacherOutput']);
  });
});
