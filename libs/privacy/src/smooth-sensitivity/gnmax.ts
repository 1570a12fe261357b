import { brentRoot } from '../special/brent';
import { log1mExp } from '../special/logspace';
import { erfcinvLog } from '../special/ndtr';
import { logErfc } from '../special/erf';
import { computeLogqGaussian, rdpDataIndependentGaussian } from '../pate/gnmax';

/**
 * Smooth sensitivity of the data-dependent GNMax RDP (Papernot et al. 2018, "Scalable Private
 * Learning with PATE", Appendix B; smooth_sensitivity.py). The data-dependent ε is a function of
 * the votes; to publish it, its smooth sensitivity bounds how much one teacher's change can move it.
 */

const logq0Cache = new Map<string, number>();

/** μ1, μ2 of Scalable PATE Prop. 10. */
function mu1mu2(sigma: number, logq: number): [number, number] {
  const mu2 = sigma * Math.sqrt(-logq);
  return [mu2 + 1, mu2];
}

/**
 * Theorem 6 of Scalable PATE applied without checking its preconditions; callers guarantee them by
 * comparing log q against log q0 (smooth_sensitivity._compute_data_dep_bound_gnmax).
 */
export function dataDependentBoundGnmax(sigma: number, logq: number, order: number): number {
  const variance = sigma * sigma;
  const [mu1, mu2] = mu1mu2(sigma, logq);
  const eps1 = mu1 / variance;
  const eps2 = mu2 / variance;
  const log1q = log1mExp(logq);
  const logA = (order - 1) * (log1q - log1mExp((logq + eps2) * (1 - 1 / mu2)));
  const logB = (order - 1) * (eps1 - logq / (mu1 - 1));
  const x = log1q + logA;
  const y = logq + logB;
  const s = x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y));
  return s / (order - 1);
}

/**
 * log q0: the point above which the data-independent bound α/σ² is the better one, so that the
 * data-dependent RDP is a non-decreasing function of log q on (-∞, log q0] (Scalable PATE App. B,
 * Lemma 9 and Theorem 6 validity; smooth_sensitivity.compute_logq0_gnmax). Found by bracketing
 * and Brent's method, as upstream.
 */
export function computeLogq0Gnmax(sigma: number, order: number): number {
  const key = `${sigma}|${order}`;
  const hit = logq0Cache.get(key);
  if (hit !== undefined) return hit;
  const valid = (logq: number): boolean => {
    const [mu1, mu2] = mu1mu2(sigma, logq);
    if (mu1 < order) return false;
    const eps2 = mu2 / (sigma * sigma);
    return logq <= (mu2 - 1) * eps2 - mu2 * Math.log((mu1 / (mu1 - 1)) * (mu2 / (mu2 - 1)));
  };
  const compare = (logq: number): number => dataDependentBoundGnmax(sigma, logq, order) - rdpDataIndependentGaussian(sigma, order);
  const logub = Math.min(-((1 + 1 / sigma) ** 2), -(((order - 0.99) / sigma) ** 2), -1 / (sigma * sigma));
  if (!valid(logub))
    throw new RangeError(`computeLogq0Gnmax: validity conditions fail at the natural upper bound (σ=${sigma}, α=${order})`);
  let result: number;
  if (compare(logub) < 0) {
    result = logub;
  } else {
    let loglb = 2 * logub;
    while (compare(loglb) > 0) {
      if (!(loglb > -10000)) throw new RangeError('computeLogq0Gnmax: the lower bound on q0 is way too low');
      loglb *= 1.5;
    }
    result = brentRoot(compare, loglb, logub);
    if (!valid(result)) throw new RangeError('computeLogq0Gnmax: root outside the validity range');
  }
  logq0Cache.set(key, result);
  return result;
}

/** log of B_l(q) = (m-1)/2 · erfc(1/σ + erfcinv(2q/(m-1))): the smallest q reachable by one teacher's change (Scalable PATE Prop. 12). */
export function logBlGnmax(logq: number, sigma: number, numClasses: number): number {
  const c = Math.log((numClasses - 1) / 2);
  return c + logErfc(1 / sigma + erfcinvLog(Math.LN2 + logq - Math.log(numClasses - 1)));
}

/** log of B_u(q) = min(1, (m-1)/2 · erfc(-1/σ + erfcinv(2q/(m-1)))): the largest q reachable (Prop. 12). */
export function logBuGnmax(logq: number, sigma: number, numClasses: number): number {
  const c = Math.log((numClasses - 1) / 2);
  return Math.min(0, c + logErfc(-1 / sigma + erfcinvLog(Math.LN2 + logq - Math.log(numClasses - 1))));
}

/** log q1 = log B_l(q0): below log q0 but within one step of it (smooth_sensitivity._compute_logq1). */
export function computeLogq1Gnmax(sigma: number, order: number, numClasses: number): number {
  const logq0 = computeLogq0Gnmax(sigma, order);
  const logq1 = logBlGnmax(logq0, sigma, numClasses);
  if (!(logq1 <= logq0)) throw new RangeError('computeLogq1Gnmax: log q1 > log q0');
  return logq1;
}

/** RDP of GNMax at one order with the log q0 switch (smooth_sensitivity._compute_rdp_gnmax). */
export function rdpGnmaxWithSwitch(sigma: number, logq: number, order: number): number {
  const logq0 = computeLogq0Gnmax(sigma, order);
  if (logq >= logq0) return rdpDataIndependentGaussian(sigma, order);
  return dataDependentBoundGnmax(sigma, logq, order);
}

/**
 * Upper bound on the local sensitivity of the data-dependent RDP at log q (Scalable PATE,
 * Algorithm 3, correctness by Proposition 13).
 */
export function localSensitivityGnmaxAtLogq(logq: number, sigma: number, numClasses: number, order: number): number {
  const logq0 = computeLogq0Gnmax(sigma, order);
  const logq1 = computeLogq1Gnmax(sigma, order, numClasses);
  let lq = logq;
  if (logq1 <= lq && lq <= logq0) lq = logq1;
  const beta = rdpGnmaxWithSwitch(sigma, lq, order);
  const betaBu = rdpGnmaxWithSwitch(sigma, logBuGnmax(lq, sigma, numClasses), order);
  const betaBl = rdpGnmaxWithSwitch(sigma, logBlGnmax(lq, sigma, numClasses), order);
  return Math.max(betaBu - beta, beta - betaBl);
}

/**
 * Local sensitivity at distance d, for d = 0..numTeachers-1, of the GNMax data-dependent RDP
 * (Scalable PATE, Algorithms 4 and 5 in the O(teachers·classes) form of
 * smooth_sensitivity.compute_local_sensitivity_bounds_gnmax): walking the vote histogram one
 * teacher at a time towards the plateau [log q1, log q0] where the bound is flat.
 */
export function localSensitivityBoundsGnmax(votes: ArrayLike<number>, numTeachers: number, sigma: number, order: number): Float64Array {
  const numClasses = votes.length;
  const logq0 = computeLogq0Gnmax(sigma, order);
  const logq1 = computeLogq1Gnmax(sigma, order, numClasses);
  let logq = computeLogqGaussian(votes, sigma);
  const plateau = localSensitivityGnmaxAtLogq(logq1, sigma, numClasses, order);
  const res = new Float64Array(numTeachers).fill(plateau);
  if (logq1 <= logq && logq <= logq0) return res;
  const v = Array.from(votes).sort((a, b) => b - a);
  res[0] = localSensitivityGnmaxAtLogq(logq, sigma, numClasses, order);
  let d = 0;
  const goLeft = logq > logq0;
  while ((goLeft && logq > logq0 && v[1] > 0) || (!goLeft && logq < logq1)) {
    d += 1;
    if (d >= numTeachers) break;
    if (goLeft) {
      v[0] += 1;
      v[1] -= 1;
      let idx = 1;
      while (idx < v.length - 1 && v[idx] < v[idx + 1]) {
        const t = v[idx];
        v[idx] = v[idx + 1];
        v[idx + 1] = t;
        idx += 1;
      }
    } else {
      v[0] -= 1;
      v[1] += 1;
    }
    logq = computeLogqGaussian(v, sigma);
    res[d] = localSensitivityGnmaxAtLogq(logq, sigma, numClasses, order);
  }
  return res;
}
