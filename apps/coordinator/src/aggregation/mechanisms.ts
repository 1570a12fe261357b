import { type NormalSource, secureStandardNormal } from '@concord/crypto';

/**
 * The PATE aggregation mechanisms, applied to the sum over institutions of their vote histograms
 * (or clipped probability sums). Noise comes from the OS CSPRNG by default; tests inject a
 * deterministic source. The privacy cost of each is computed elsewhere, by libs/privacy, from the
 * event the caller records (`gnmax`, `confident_gnmax`, `gaussian_soft_labels`).
 */

export interface GnmaxAnswer {
  label: number;
}

export interface ConfidentAnswer {
  answered: boolean;
  /** Present only when answered. */
  label?: number;
}

function checkHistogram(votes: readonly number[], name: string): void {
  if (votes.length < 2) throw new RangeError(`${name} must have at least 2 classes`);
  for (const v of votes) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must hold finite, non-negative counts`);
  }
}

function checkSigma(sigma: number, name: string): void {
  if (!Number.isFinite(sigma) || sigma <= 0) throw new RangeError(`${name} must be a positive number, got ${sigma}`);
}

/** Index of the largest value (the first of equals). */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * GNMax (Papernot et al. 2018, §4.1): argmax_j (n_j + N(0, σ²)). Only the argmax is released,
 * never the noisy counts.
 */
export function gnmax(votes: readonly number[], sigma: number, normal: NormalSource = secureStandardNormal): GnmaxAnswer {
  checkHistogram(votes, 'votes');
  checkSigma(sigma, 'sigma');
  return { label: argmax(votes.map((v) => v + sigma * normal())) };
}

/**
 * Confident-GNMax (Papernot et al. 2018, Algorithm 1): answer only if max_j n_j + N(0, σ1²) ≥ T,
 * and then with GNMax at σ2, with fresh noise. The threshold decision is released (a query is
 * answered or not); the noisy maximum is not.
 */
export function confidentGnmax(
  votes: readonly number[],
  threshold: number,
  sigma1: number,
  sigma2: number,
  normal: NormalSource = secureStandardNormal,
): ConfidentAnswer {
  checkHistogram(votes, 'votes');
  checkSigma(sigma1, 'sigma1');
  checkSigma(sigma2, 'sigma2');
  if (!Number.isFinite(threshold)) throw new RangeError('threshold must be finite');
  const max = Math.max(...votes);
  if (max + sigma1 * normal() < threshold) return { answered: false };
  return { answered: true, label: gnmax(votes, sigma2, normal).label };
}

/** The grid released soft-label values are rounded to (2^-16): snapping keeps sampler artefacts out of the output. */
export const SOFT_LABEL_GRID = 2 ** -16;

/**
 * Gaussian soft labels: Σ over teachers of their L2-clipped probability vectors, plus N(0, σ² I),
 * rounded to {@link SOFT_LABEL_GRID}. The caller clips each teacher's vector to norm ≤ C before
 * summing (the agent does, per teacher); the cost is that of `gaussian_soft_labels(σ, C)`.
 */
export function noisySoftLabels(sums: readonly number[], sigma: number, normal: NormalSource = secureStandardNormal): number[] {
  checkHistogram(sums, 'sums');
  checkSigma(sigma, 'sigma');
  return sums.map((s) => Math.round((s + sigma * normal()) / SOFT_LABEL_GRID) * SOFT_LABEL_GRID);
}

/** Sums institutions' histograms for one query; every histogram must have the same number of classes. */
export function sumHistograms(histograms: readonly (readonly number[])[]): number[] {
  if (histograms.length === 0) throw new RangeError('at least one histogram');
  const classes = histograms[0].length;
  const total = new Array<number>(classes).fill(0);
  for (const h of histograms) {
    if (h.length !== classes) throw new RangeError(`histograms must all have ${classes} classes`);
    for (let j = 0; j < classes; j++) total[j] += h[j];
  }
  return total;
}
