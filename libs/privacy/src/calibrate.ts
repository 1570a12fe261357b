import { type Conversion, epsilonOfTotal } from './gaussian-dp';
import { DPA_ORDERS } from './orders';

export interface CalibrationResult {
  readonly sigma: number;
  readonly epsilon: number;
  /** Null under the exact Gaussian conversion (it has no order). */
  readonly optimalOrder: number | null;
}

export interface ConfidentCalibrationResult {
  readonly sigma1: number;
  readonly sigma2: number;
  readonly epsilon: number;
  readonly optimalOrder: number | null;
}

/**
 * Smallest σ (to relative precision `rtol`) with ε(σ) ≤ target, where ε(σ) is the conversion
 * (improved by default, or the exact Gaussian one a ledger budget may use) of queries · c · α/σ²
 * (c = per-query RDP coefficient at σ = 1). ε is decreasing in σ,
 * so bisection on log σ is exact up to rtol; the returned σ always satisfies the target.
 */
function smallestSigma(
  coefPerOrder: (order: number) => number,
  epsilon: number,
  delta: number,
  orders: ArrayLike<number>,
  rtol: number,
  conversion: Conversion,
): CalibrationResult {
  if (!(epsilon > 0)) throw new RangeError(`epsilon must be positive, got ${epsilon}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  const base = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) base[k] = coefPerOrder(orders[k]);
  const rdp = new Float64Array(orders.length);
  const epsAt = (sigma: number): { epsilon: number; optimalOrder: number | null } => {
    const inv = 1 / (sigma * sigma);
    for (let k = 0; k < rdp.length; k++) rdp[k] = base[k] * inv;
    return epsilonOfTotal(conversion, orders, rdp, delta);
  };
  let hi = 1;
  while (epsAt(hi).epsilon > epsilon) {
    hi *= 2;
    if (hi > 1e300) throw new RangeError('no finite σ meets the target');
  }
  let lo = hi / 2;
  while (epsAt(lo).epsilon <= epsilon && lo > 1e-300) {
    hi = lo;
    lo /= 2;
  }
  while (hi - lo > rtol * hi) {
    const mid = Math.sqrt(lo * hi);
    if (epsAt(mid).epsilon <= epsilon) hi = mid;
    else lo = mid;
  }
  const r = epsAt(hi);
  return { sigma: hi, epsilon: r.epsilon, optimalOrder: r.optimalOrder };
}

/**
 * Smallest GNMax σ such that `queries` answers cost at most ε at δ, data-independently
 * (α/σ² per query, Scalable PATE Prop. 8; improved conversion). A planning figure: the charge is
 * guaranteed whatever the votes turn out to be.
 */
export function calibrateGnmaxSigma(p: {
  queries: number;
  epsilon: number;
  delta: number;
  orders?: ArrayLike<number>;
  rtol?: number;
  conversion?: Conversion;
}): CalibrationResult {
  if (!(Number.isInteger(p.queries) && p.queries > 0)) throw new RangeError(`queries must be a positive integer, got ${p.queries}`);
  return smallestSigma((a) => p.queries * a, p.epsilon, p.delta, p.orders ?? DPA_ORDERS, p.rtol ?? 1e-9, p.conversion ?? 'improved');
}

/**
 * Smallest (σ1, σ2) with σ1 = ratio·σ2 such that Confident-GNMax on `queries` queries, of which at
 * most `answered` (default: all) pass the threshold, costs at most ε at δ data-independently:
 * per query α/(2σ1²) for the threshold step, plus α/σ2² per answered query.
 */
export function calibrateConfidentGnmax(p: {
  queries: number;
  epsilon: number;
  delta: number;
  ratio: number;
  answered?: number;
  orders?: ArrayLike<number>;
  rtol?: number;
  conversion?: Conversion;
}): ConfidentCalibrationResult {
  if (!(Number.isInteger(p.queries) && p.queries > 0)) throw new RangeError(`queries must be a positive integer, got ${p.queries}`);
  if (!(p.ratio > 0)) throw new RangeError(`ratio (σ1/σ2) must be positive, got ${p.ratio}`);
  const answered = p.answered ?? p.queries;
  if (!(Number.isInteger(answered) && answered >= 0 && answered <= p.queries))
    throw new RangeError('answered must be an integer in [0, queries]');
  const r2 = p.ratio * p.ratio;
  const r = smallestSigma(
    (a) => p.queries * (a / (2 * r2)) + answered * a,
    p.epsilon,
    p.delta,
    p.orders ?? DPA_ORDERS,
    p.rtol ?? 1e-9,
    p.conversion ?? 'improved',
  );
  return { sigma1: p.ratio * r.sigma, sigma2: r.sigma, epsilon: r.epsilon, optimalOrder: r.optimalOrder };
}
