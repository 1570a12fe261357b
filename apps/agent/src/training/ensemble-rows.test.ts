import { describe, expect, it } from 'vitest';
import { argmax, checkTeacherOutputs, clipL2, clippedProbabilitySums, voteHistograms } from './ensemble-rows';

describe('institution-level rows', () => {
  // Three teachers, two queries, three classes.
  const outputs = [
    [
      [0.7, 0.2, 0.1],
      [0.1, 0.1, 0.8],
    ],
    [
      [0.6, 0.3, 0.1],
      [0.4, 0.4, 0.2],
    ],
    [
      [0.2, 0.5, 0.3],
      [0.0, 0.3, 0.7],
    ],
  ];

  it('counts one argmax vote per teacher, ties to the lowest class', () => {
    expect(argmax([0.4, 0.4, 0.2])).toBe(0);
    expect(voteHistograms(outputs, 3)).toEqual([
      [2, 1, 0],
      [1, 0, 2],
    ]);
  });

  it('sums probability vectors after clipping each to the L2 norm', () => {
    // ‖(0.6, 0.8)‖ = 1: clipped to 0.5 it becomes (0.3, 0.4).
    expect(clipL2([0.6, 0.8], 0.5)).toEqual([0.3, 0.4]);
    expect(clipL2([0.3, 0.4], 1)).toEqual([0.3, 0.4]);
    const sums = clippedProbabilitySums([[[0.6, 0.8]], [[0.3, 0.4]]], 2, 0.5);
    expect(sums[0][0]).toBeCloseTo(0.6, 12);
    expect(sums[0][1]).toBeCloseTo(0.8, 12);
  });

  it('names the teacher and query of a malformed output', () => {
    expect(() => checkTeacherOutputs([], 2, 3)).toThrow(/non-empty/);
    expect(() => checkTeacherOutputs([[[1, 0, 0]]], 2, 3)).toThrow(/teacher 0: expected 2/);
    expect(() =>
      checkTeacherOutputs(
        [
          [
            [1, 0, 0],
            [1, 0],
          ],
        ],
        2,
        3,
      ),
    ).toThrow(/teacher 0, query 1: expected 3/);
    expect(() =>
      checkTeacherOutputs(
        [
          [
            [1, 0, 0],
            [1, -1, 0],
          ],
        ],
        2,
        3,
      ),
    ).toThrow(/non-negative/);
  });
});
