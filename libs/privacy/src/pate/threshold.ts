import { log1mExp } from '../special/logspace';
import { normLogSf } from '../special/ndtr';
import { roundHalfEven } from '../special/round';
import { isClose, rdpGaussian, rdpGaussianScalar } from './gnmax';

/**
 * ln Pr[max votes + N(0, σ1²) ≥ T], the probability that Confident-GNMax answers a query
 * (core.compute_logpr_answered). The maximum is rounded half-to-even, as Python's round(), which
 * upstream does so that smooth sensitivity can treat fractional (interactive) votes on the
 * integer grid.
 */
export function computeLogPrAnswered(threshold: number, sigma: number, votes: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < votes.length; i++) if (votes[i] > m) m = votes[i];
  return normLogSf(threshold - roundHalfEven(m), sigma);
}

/**
 * Data-independent RDP of the threshold step: the noisy maximum has sensitivity 1 (not √2 as the
 * GNMax histogram), so it is GNMax's bound with σ√2: α/(2σ²) (Scalable PATE §4.1;
 * core.compute_rdp_data_independent_threshold).
 */
export function rdpDataIndependentThreshold(sigma: number, order: number): number {
  const s = Math.SQRT2 * sigma;
  return order / (s * s);
}

/**
 * Data-dependent RDP of the threshold step: Theorem 6 applied to the two-outcome mechanism with
 * q = min(Pr[answered], Pr[not answered]) and σ√2 (core.compute_rdp_threshold).
 */
export function computeRdpThreshold(logPrAnswered: number, sigma: number, orders: ArrayLike<number>): Float64Array {
  return rdpGaussian(thresholdLogq(logPrAnswered), Math.SQRT2 * sigma, orders);
}

export function computeRdpThresholdScalar(logPrAnswered: number, sigma: number, order: number): number {
  return rdpGaussianScalar(thresholdLogq(logPrAnswered), Math.SQRT2 * sigma, order);
}

export function thresholdLogq(logPrAnswered: number): number {
  return Math.min(logPrAnswered, log1mExp(logPrAnswered));
}

/**
 * Whether the data-independent bound is always optimal for the threshold step at every order:
 * the data-dependent bound depends on max(votes) only, so checking max = 0 and max = num_teachers
 * suffices (core.is_data_independent_always_opt_threshold).
 */
export function isDataIndependentAlwaysOptThreshold(
  numTeachers: number,
  threshold: number,
  sigma: number,
  orders: ArrayLike<number>,
): boolean {
  const logq1 = computeLogPrAnswered(threshold, sigma, [0]);
  const logq2 = computeLogPrAnswered(threshold, sigma, [numTeachers]);
  const d1 = computeRdpThreshold(logq1, sigma, orders);
  const d2 = computeRdpThreshold(logq2, sigma, orders);
  for (let k = 0; k < orders.length; k++) {
    const ind = rdpDataIndependentThreshold(sigma, orders[k]);
    if (!isClose(d1[k], ind) || !isClose(d2[k], ind)) return false;
  }
  return true;
}
