import { symmetricEigen } from './symmetric-eigen';

/**
 * Principal components in float64 JavaScript, meant to be fitted on the PUBLIC pool only: a
 * projection fitted on public data leaks nothing about any teacher's records, so every teacher
 * and the student may share it.
 *
 * Method: the sample covariance (divisor n − 1), then its full eigen-decomposition
 * (symmetric-eigen.ts: Householder + QL, O(d³); a few seconds for d = 784). Components are
 * sign-normalised — the largest-magnitude coordinate is positive, the first one on ties — so a
 * fit is reproducible.
 */
export interface PcaModel {
  readonly inputSize: number;
  readonly components: number;
  readonly mean: Float64Array;
  /** components × inputSize, row-major; rows are orthonormal, by decreasing variance. */
  readonly basis: Float64Array;
  /** Variance along each component (eigenvalues of the covariance). */
  readonly explainedVariance: Float64Array;
  /** Sum of all eigenvalues (total variance), for explained-variance ratios. */
  readonly totalVariance: number;
}

export function fitPca(publicFeatures: ArrayLike<number>, inputSize: number, components: number): PcaModel {
  const n = publicFeatures.length / inputSize;
  const d = inputSize;
  if (!Number.isInteger(n) || n < 2) throw new Error(`fitPca: need at least 2 rows of ${d} features, got ${publicFeatures.length} values`);
  if (!Number.isInteger(components) || components < 1 || components > d) {
    throw new Error(`fitPca: components must be in [1, ${d}], got ${components}`);
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += publicFeatures[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;

  // Upper triangle of the covariance, accumulated row by row, then mirrored.
  const cov = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) row[j] = publicFeatures[i * d + j] - mean[j];
    for (let a = 0; a < d; a++) {
      const ra = row[a];
      if (ra === 0) continue;
      const base = a * d;
      for (let b = a; b < d; b++) cov[base + b] += ra * row[b];
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / (n - 1);
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }

  const { values, vectors } = symmetricEigen(cov, d);
  const basis = new Float64Array(components * d);
  const explainedVariance = new Float64Array(components);
  for (let c = 0; c < components; c++) {
    let argmax = 0;
    for (let j = 1; j < d; j++) if (Math.abs(vectors[c * d + j]) > Math.abs(vectors[c * d + argmax]) + 1e-12) argmax = j;
    const sign = vectors[c * d + argmax] < 0 ? -1 : 1;
    for (let j = 0; j < d; j++) basis[c * d + j] = sign * vectors[c * d + j];
    // Rounding can leave a zero eigenvalue slightly negative.
    explainedVariance[c] = Math.max(0, values[c]);
  }
  const totalVariance = values.reduce((s, v) => s + Math.max(0, v), 0);
  return { inputSize: d, components, mean, basis, explainedVariance, totalVariance };
}

/** Projects row-major features (rows × inputSize) onto the components: rows × components, float32. */
export function applyPca(model: PcaModel, features: ArrayLike<number>): Float32Array {
  const d = model.inputSize;
  const rows = features.length / d;
  if (!Number.isInteger(rows)) throw new Error(`applyPca: ${features.length} values is not a whole number of rows of ${d}`);
  const k = model.components;
  const out = new Float32Array(rows * k);
  const centred = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < d; j++) centred[j] = features[i * d + j] - model.mean[j];
    for (let c = 0; c < k; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += model.basis[c * d + j] * centred[j];
      out[i * k + c] = s;
    }
  }
  return out;
}
