import { describe, expect, it } from 'vitest';
import { seededRandom } from '../data/prng';
import { symmetricEigen } from './symmetric-eigen';

describe('symmetricEigen', () => {
  it('decomposes [[2, 1], [1, 2]]: eigenvalues 3 and 1 along (1, 1)/√2 and (1, −1)/√2', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0])).toBeCloseTo(Math.SQRT1_2, 12);
    expect(vectors[0] * vectors[1]).toBeCloseTo(0.5, 12); // same sign
    expect(vectors[2] * vectors[3]).toBeCloseTo(-0.5, 12); // opposite signs
  });

  it('returns a diagonal matrix’s entries, sorted, with unit-axis vectors', () => {
    const { values, vectors } = symmetricEigen([1, 0, 0, 0, 5, 0, 0, 0, 3], 3);
    expect(Array.from(values)).toEqual([5, 3, 1]);
    expect(Array.from(vectors).map(Math.abs)).toEqual([0, 1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it('satisfies A v = λ v with orthonormal vectors on a random symmetric 40 × 40 matrix', () => {
    const n = 40;
    const random = seededRandom(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        const v = random() - 0.5;
        a[i * n + j] = v;
        a[j * n + i] = v;
      }
    }
    const { values, vectors } = symmetricEigen(a, n);
    let worst = 0;
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
        worst = Math.max(worst, Math.abs(av - values[k] * vectors[k * n + i]));
      }
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let j = 0; j < n; j++) dot += vectors[k * n + j] * vectors[l * n + j];
        worst = Math.max(worst, Math.abs(dot - (k === l ? 1 : 0)));
      }
      if (k > 0) expect(values[k]).toBeLessThanOrEqual(values[k - 1]);
    }
    expect(worst).toBeLessThan(1e-12);
    // The trace is the sum of the eigenvalues.
    let trace = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    expect(values.reduce((s, v) => s + v, 0)).toBeCloseTo(trace, 10);
  });
});
