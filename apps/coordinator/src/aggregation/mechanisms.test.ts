import { describe, expect, it } from 'vitest';
import { confidentGnmax, gnmax, noisySoftLabels, SOFT_LABEL_GRID, sumHistograms } from './mechanisms';

/** A deterministic standard-normal source: yields the given values in order. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => {
    if (i >= values.length) throw new Error('sequence exhausted');
    return values[i++];
  };
}

describe('GNMax', () => {
  it('releases the argmax of the noisy counts', () => {
    // votes + σ·z = [10 + 2·3, 12 + 2·0, 1 + 2·1] = [16, 12, 3] → class 0 although class 1 has more votes.
    expect(gnmax([10, 12, 1], 2, sequence(3, 0, 1))).toEqual({ label: 0 });
    expect(gnmax([10, 12, 1], 2, sequence(0, 0, 0))).toEqual({ label: 1 });
  });

  it('with the real CSPRNG: a clear plurality wins at small σ, and noise matters at large σ', () => {
    const votes = [0, 240, 10, 0];
    for (let i = 0; i < 200; i++) expect(gnmax(votes, 5).label).toBe(1);
    const labels = new Set(Array.from({ length: 400 }, () => gnmax([60, 62, 64, 61], 200).label));
    expect(labels.size).toBe(4);
  });

  it('refuses bad inputs', () => {
    expect(() => gnmax([1], 1)).toThrow(/2 classes/);
    expect(() => gnmax([1, -1], 1)).toThrow(/non-negative/);
    expect(() => gnmax([1, 2], 0)).toThrow(/sigma/);
  });
});

describe('Confident-GNMax', () => {
  it('answers only when the noisy maximum reaches the threshold, then uses fresh noise', () => {
    // max 200 + 150·(-0.5) = 125 < 175: not answered, and no second draw happens.
    expect(confidentGnmax([200, 50], 175, 150, 40, sequence(-0.5))).toEqual({ answered: false });
    // 200 + 150·0 = 200 ≥ 175: answered; GNMax draws [0, 5] → [200, 50 + 200] → class 1.
    expect(confidentGnmax([200, 50], 175, 150, 40, sequence(0, 0, 5))).toEqual({ answered: true, label: 1 });
  });
});

describe('noisy soft labels', () => {
  it('adds σ·z and rounds to the grid', () => {
    const out = noisySoftLabels([1.5, 0.25], 0.5, sequence(0.1, -0.2));
    expect(out[0]).toBeCloseTo(1.55, 4);
    expect(out[1]).toBeCloseTo(0.15, 4);
    for (const v of out) expect(Number.isInteger(v / SOFT_LABEL_GRID)).toBe(true);
  });
});

describe('sumHistograms', () => {
  it('adds per class and refuses mismatched shapes', () => {
    expect(
      sumHistograms([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    ).toEqual([5, 7, 9]);
    expect(() =>
      sumHistograms([
        [1, 2],
        [1, 2, 3],
      ]),
    ).toThrow(/2 classes/);
  });
});
