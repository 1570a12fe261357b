import { describe, expect, it } from 'vitest';
import { applyPca, fitPca } from './pca';

describe('PCA', () => {
  it('finds the axes of a hand-built point cloud', () => {
    // Points ±3u and ±v with u = (1, 1, 0)/√2, v = (1, −1, 0)/√2: mean 0, and the sample
    // covariance (n − 1 = 3) is (2·9 uuᵀ + 2·1 vvᵀ)/3, so eigenvalues 6 along u and 2/3 along v.
    const s = Math.SQRT1_2;
    const u = [s, s, 0];
    const v = [s, -s, 0];
    const rows = [u.map((x) => 3 * x), u.map((x) => -3 * x), v, v.map((x) => -x)];
    const pca = fitPca(rows.flat(), 3, 2);
    expect(pca.explainedVariance[0]).toBeCloseTo(6, 9);
    expect(pca.explainedVariance[1]).toBeCloseTo(2 / 3, 9);
    // Sign-normalised: largest-magnitude coordinate positive (ties → first), so +u and +v.
    Array.from(pca.basis.subarray(0, 3)).forEach((x, i) => expect(x).toBeCloseTo(u[i], 12));
    Array.from(pca.basis.subarray(3, 6)).forEach((x, i) => expect(x).toBeCloseTo(v[i], 12));
    const projected = applyPca(pca, [...rows[0], ...rows[2]]);
    expect(projected[0]).toBeCloseTo(3, 5);
    expect(projected[1]).toBeCloseTo(0, 5);
    expect(projected[2]).toBeCloseTo(0, 5);
    expect(projected[3]).toBeCloseTo(1, 5);
  });

  it('centres on the mean and returns orthonormal components', () => {
    // Shifted copies of the same cloud: the mean moves, the axes do not.
    const rows = [
      [13, 5, 1],
      [7, 5, 1],
      [10, 6, 1],
      [10, 4, 1],
    ];
    const pca = fitPca(rows.flat(), 3, 3);
    expect(Array.from(pca.mean)).toEqual([10, 5, 1]);
    expect(pca.explainedVariance[0]).toBeCloseTo(6, 9); // 2·9/3 along x
    expect(pca.explainedVariance[1]).toBeCloseTo(2 / 3, 9); // 2·1/3 along y
    expect(pca.explainedVariance[2]).toBeCloseTo(0, 9); // z is constant
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let dot = 0;
        for (let j = 0; j < 3; j++) dot += pca.basis[a * 3 + j] * pca.basis[b * 3 + j];
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 9);
      }
    }
  });

  it('refuses impossible component counts', () => {
    expect(() => fitPca([1, 2, 3, 4], 2, 3)).toThrow(/components must be in \[1, 2\]/);
  });
});
