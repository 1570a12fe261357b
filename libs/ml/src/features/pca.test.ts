import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend';
import { seededRandom } from '../data/prng';
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

  it('gives the same components with the covariance computed on the tfjs backend', async () => {
    await selectBackend('cpu');
    // 2,500 rows (three chunks of the tfjs path) of 12 correlated features.
    const random = seededRandom(11);
    const d = 12;
    const rows: number[] = [];
    for (let i = 0; i < 2500; i++) {
      const z = [random(), random(), random()];
      for (let j = 0; j < d; j++) rows.push(5 + z[j % 3] * (j + 1) + 0.1 * random());
    }
    const exact = fitPca(rows, d, 3);
    const fast = fitPca(rows, d, 3, { covariance: 'tfjs' });
    for (let c = 0; c < 3; c++) {
      expect(fast.explainedVariance[c]).toBeCloseTo(exact.explainedVariance[c], 3);
      for (let j = 0; j < d; j++) expect(fast.basis[c * d + j]).toBeCloseTo(exact.basis[c * d + j], 4);
    }
  });

  it('finds the same top components by subspace iteration as by the full decomposition', async () => {
    await selectBackend('cpu');
    // 600 rows of 40 features with a decaying spectrum: feature j carries a latent of scale 1/(j+1).
    const random = seededRandom(5);
    const d = 40;
    const rows: number[] = [];
    for (let i = 0; i < 600; i++) {
      const z = Array.from({ length: 8 }, () => random() - 0.5);
      for (let j = 0; j < d; j++) rows.push(z[j % 8] * (8 - (j % 8)) + 0.05 * (random() - 0.5) + Math.sin(i + j) * 0.01);
    }
    const full = fitPca(rows, d, 5);
    const sub = fitPca(rows, d, 5, { covariance: 'tfjs', eigen: 'subspace' });
    expect(sub.totalVariance).toBeCloseTo(full.totalVariance, 4);
    for (let c = 0; c < 5; c++) {
      expect(sub.explainedVariance[c] / full.explainedVariance[c]).toBeCloseTo(1, 4);
      let dot = 0;
      for (let j = 0; j < d; j++) dot += sub.basis[c * d + j] * full.basis[c * d + j];
      expect(Math.abs(dot)).toBeCloseTo(1, 4);
    }
  });

  it('refuses impossible component counts', () => {
    expect(() => fitPca([1, 2, 3, 4], 2, 3)).toThrow(/components must be in \[1, 2\]/);
  });
});
