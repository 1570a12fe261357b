import { describe, expect, it } from 'vitest';
import { InvalidInputException } from '../common/problem';
import { chooseByMargin, poolExampleOf, resolveQuerySelection, roundSize } from './query-selection';

describe('query selection', () => {
  // Five rows of three classes; top-two margins 0.9, 0.5, 0.1, 0.5, 0.3.
  const probabilities = Float32Array.from([0.95, 0.05, 0, 0.7, 0.2, 0.1, 0.4, 0.3, 0.3, 0.1, 0.15, 0.75, 0.5, 0.2, 0.3]);

  it('chooses the candidates whose margin is closest to the target, closest first, ties by row', () => {
    expect(chooseByMargin(probabilities, 3, [0, 1, 2, 3, 4], 3, 0.5)).toEqual([1, 3, 4]);
    expect(chooseByMargin(probabilities, 3, [0, 1, 2, 3, 4], 2, 0.05)).toEqual([2, 4]);
    expect(chooseByMargin(probabilities, 3, [0, 1, 2, 3, 4], 1, 1)).toEqual([0]);
  });

  it('chooses among the candidates only, and no more than there are', () => {
    expect(chooseByMargin(probabilities, 3, [0, 2], 5, 0.2)).toEqual([2, 0]);
    expect(chooseByMargin(probabilities, 3, [], 2, 0.5)).toEqual([]);
    expect(() => chooseByMargin(probabilities, 3, [5], 1, 0.5)).toThrow(RangeError);
    expect(() => chooseByMargin(probabilities, 4, [0], 1, 0.5)).toThrow(RangeError);
  });

  it('a job with query selection starts with the first round of pool examples; later queries map through its pool order', () => {
    const resolved = resolveQuerySelection({ kind: 'student_margin', rounds: 4 }, 10)!;
    expect(resolved.setting).toEqual({ kind: 'student_margin', rounds: 4, targetMargin: 0.5 });
    expect(roundSize(resolved.setting, 10)).toBe(3);
    expect(resolved.firstRound).toEqual([0, 1, 2]);
    expect(resolveQuerySelection(undefined, 10)).toBeNull();
    expect(poolExampleOf({ poolOrder: null }, 7)).toBe(7);
    expect(poolExampleOf({ poolOrder: [0, 1, 2, 9, 4] }, 3)).toBe(9);
    expect(() => poolExampleOf({ poolOrder: [0, 1, 2] }, 3)).toThrow(/no example chosen/);
  });

  it('refuses more rounds than pool queries, naming the field', () => {
    try {
      resolveQuerySelection({ kind: 'student_margin', rounds: 11, targetMargin: 0.3 }, 10);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidInputException);
      expect((err as InvalidInputException).getResponse()).toMatchObject({ errors: [{ field: 'body.querySelection.rounds' }] });
    }
  });
});
