import { log1mExp } from '../special/logspace';
import { normLogSf } from '../special/ndtr';
import { softplus } from '../special/softplus';

/**
 * Upper bound on ln Pr[GNMax outcome ≠ argmax of the votes], by a union bound over the other
 * classes: q ≤ Σ_{j≠i*} Pr[n_j + N(0,σ²) > n_{i*} + N(0,σ²)] = Σ Φ̄((n_{i*} - n_j)/(√2 σ)),
 * capped at 1 - 1/m (Papernot et al. 2018, "Scalable Private Learning with PATE", Prop. 7;
 * core.compute_logq_gaussian). Φ̄ is evaluated in log space, so log q stays exact far below
 * the double-precision underflow of q itself.
 */
export function computeLogqGaussian(votes: ArrayLike<number>, sigma: number): number {
  const n = votes.length;
  if (n < 2) throw new RangeError('votes: need at least two classes');
  let idxMax = 0;
  for (let j = 1; j < n; j++) if (votes[j] > votes[idxMax]) idxMax = j;
  const scale = Math.sqrt(2 * sigma * sigma);
  const top = votes[idxMax];
  if (logqScratch.length < n) logqScratch = new Float64Array(n);
  const terms = logqScratch;
  // _logaddexp of upstream: m + log Σ exp(x - m), with m the largest term. Equal vote gaps (the
  // many empty classes of a confident histogram) share one tail evaluation.
  let m = -Infinity;
  let k = 0;
  let prevGap = NaN;
  let prevVal = 0;
  for (let j = 0; j < n; j++) {
    if (j === idxMax) continue;
    const gap = top - votes[j];
    const t = gap === prevGap ? prevVal : normLogSf(gap, scale);
    prevGap = gap;
    prevVal = t;
    terms[k++] = t;
    if (t > m) m = t;
  }
  let s = 0;
  for (let i = 0; i < k; i++) {
    const x = terms[i] - m;
    // e^-60 < 1e-26: below the last bit of the sum, which is at least 1.
    if (x > -60) s += Math.exp(x);
  }
  const logq = m + Math.log(s);
  return Math.min(logq, Math.log(1 - 1 / n));
}

let logqScratch = new Float64Array(16);

/**
 * Data-independent RDP of one GNMax answer: α/σ² (Scalable PATE, Prop. 8 — the votes histogram
 * has L2 sensitivity √2 when one teacher changes its vote, so Gaussian RDP α·2/(2σ²)).
 */
export function rdpDataIndependentGaussian(sigma: number, order: number): number {
  if (sigma < 0 || !(order > 1)) throw new RangeError('rdpDataIndependentGaussian: sigma >= 0 and order > 1 required');
  return order / (sigma * sigma);
}

/**
 * Per-(log q, σ) quantities of the data-dependent bound, computed once and then applied to every
 * order. `applicable` false means the bound does not apply and the data-independent α/σ² is used.
 */
export interface GnmaxDdTerms {
  readonly applicable: boolean;
  readonly zero: boolean;
  readonly variance: number;
  readonly muHi1: number;
  readonly log1q: number;
  /** log_a / (α - 1) */
  readonly aSlope: number;
  /** log_b / (α - 1) */
  readonly bSlope: number;
  readonly logq: number;
}

/**
 * The order-independent part of Scalable PATE Theorem 6 with the higher orders μ2 = σ√(-log q),
 * μ1 = μ2 + 1 of Proposition 10, and the conditions under which the theorem applies: μ2 > 1,
 * q below the Lemma 9 bound (so the bound is increasing in q), and -log q > μ2/σ².
 */
export function gnmaxDataDependentTerms(logq: number, sigma: number): GnmaxDdTerms {
  if (logq > 0 || sigma < 0 || Number.isNaN(logq)) throw new RangeError('rdpGaussian: requires logq <= 0 and sigma >= 0');
  const variance = sigma * sigma;
  if (logq === -Infinity) {
    return { applicable: false, zero: true, variance, muHi1: 0, log1q: 0, aSlope: 0, bSlope: 0, logq };
  }
  const muHi2 = Math.sqrt(variance * -logq);
  const muHi1 = muHi2 + 1;
  const rdpHi1 = muHi1 / variance;
  const rdpHi2 = muHi2 / variance;
  const logA2 = (muHi2 - 1) * rdpHi2;
  const ok = muHi2 > 1 && logq <= logA2 - muHi2 * (Math.log(1 + 1 / (muHi1 - 1)) + Math.log(1 + 1 / (muHi2 - 1))) && -logq > rdpHi2;
  if (!ok) return { applicable: false, zero: false, variance, muHi1, log1q: 0, aSlope: 0, bSlope: 0, logq };
  const log1q = log1mExp(logq);
  const aSlope = log1q - log1mExp((logq + rdpHi2) * (1 - 1 / muHi2));
  const bSlope = rdpHi1 - logq / (muHi1 - 1);
  return { applicable: true, zero: false, variance, muHi1, log1q, aSlope, bSlope, logq };
}

/** One order of Theorem 6, given the precomputed terms. */
export function rdpGaussianAtOrder(t: GnmaxDdTerms, order: number): number {
  if (t.zero) return 0;
  const ind = order / t.variance;
  if (!t.applicable || !(t.muHi1 > order)) return ind;
  const am1 = order - 1;
  // np.logaddexp(log1q + log_a, logq + log_b)
  const x = t.log1q + am1 * t.aSlope;
  const y = t.logq + am1 * t.bSlope;
  const logS = x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y));
  const dd = logS / am1;
  return dd < ind ? dd : ind;
}

/**
 * Data-dependent RDP of GNMax given an upper bound on log q (Papernot et al. 2018, Scalable
 * PATE, Theorem 6, with μ1, μ2 from Proposition 10; core.rdp_gaussian). Where the theorem does not
 * apply (order ≥ μ1, or the conditions fail) the result is exactly the data-independent α/σ².
 */
export function rdpGaussian(logq: number, sigma: number, orders: ArrayLike<number>): Float64Array {
  const t = gnmaxDataDependentTerms(logq, sigma);
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k];
    if (!(a > 1)) throw new RangeError(`orders[${k}]: must be > 1`);
    out[k] = rdpGaussianAtOrder(t, a);
  }
  return out;
}

/**
 * Adds weight · rdpGaussian(logq, σ, orders) into acc without allocating: the hot loop of the
 * ledger and of data-dependent analyses over thousands of queries.
 *
 * Same bound as rdpGaussian, evaluated as log S = x + softplus(d), x = log(1-q) + (α-1)·a and
 * d = y - x = (log q - log(1-q)) + (α-1)(b - a), where softplus(d) = log(1 + e^d) replaces
 * numpy.logaddexp(x, y). In the band |d| ≤ 8, where nearly all PATE orders fall, softplus comes
 * from a degree-6 Taylor table (special/softplus.ts) instead of an exp and a log1p; outside it from
 * one exp and a short series. Agrees with rdpGaussian to ~1e-13 relative.
 */
export function addRdpGaussian(acc: Float64Array, logq: number, sigma: number, orders: ArrayLike<number>, weight = 1): void {
  const t = gnmaxDataDependentTerms(logq, sigma);
  if (t.zero) return;
  const n = orders.length;
  const inv = 1 / t.variance;
  if (!t.applicable) {
    for (let k = 0; k < n; k++) acc[k] += weight * (orders[k] * inv);
    return;
  }
  // Read the orders from the cached Float64Array copy: typed-array loads are cheaper than a
  // frozen JS array's, and the copy is known to equal `orders`.
  const cached = reciprocalsOfAm1(orders);
  const inv1 = cached.inv;
  const ord = cached.orders;
  const muHi1 = t.muHi1;
  const log1q = t.log1q;
  const aSlope = t.aSlope;
  const c = t.logq - log1q;
  const slope = t.bSlope - aSlope;
  for (let k = 0; k < n; k++) {
    const a = ord[k];
    const ind = a * inv;
    if (!(muHi1 > a)) {
      acc[k] += weight * ind;
      continue;
    }
    const am1 = a - 1;
    const dd = (log1q + am1 * aSlope + softplus(c + am1 * slope)) * inv1[k];
    acc[k] += weight * (dd < ind ? dd : ind);
  }
}

const reciprocalCache = new WeakMap<object, { orders: Float64Array; inv: Float64Array }>();

/**
 * 1/(α - 1) per order (a multiply is cheaper than a divide), cached per order-list object; a hit
 * on a mutable array is re-validated element by element, so a caller that mutates its array never
 * gets stale values.
 */
function reciprocalsOfAm1(orders: ArrayLike<number>): { orders: Float64Array; inv: Float64Array } {
  const key = orders as unknown as object;
  const hit = reciprocalCache.get(key);
  // A frozen list cannot have changed; anything else is compared element by element.
  if (hit && (Object.isFrozen(key) || sameOrders(hit.orders, orders))) return hit;
  const entry = { orders: Float64Array.from(orders), inv: Float64Array.from(orders, (a) => 1 / (a - 1)) };
  reciprocalCache.set(key, entry);
  return entry;
}

function sameOrders(a: Float64Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Scalar-order form. */
export function rdpGaussianScalar(logq: number, sigma: number, order: number): number {
  return rdpGaussianAtOrder(gnmaxDataDependentTerms(logq, sigma), order);
}

/**
 * True at the orders where the data-independent bound equals the data-dependent one even for a
 * unanimous vote, i.e. where no vote histogram can do better (core.is_data_independent_always_opt_gaussian;
 * np.isclose with rtol 1e-5, atol 1e-8 as upstream).
 */
export function isDataIndependentAlwaysOptGaussian(
  numTeachers: number,
  numClasses: number,
  sigma: number,
  orders: ArrayLike<number>,
): boolean[] {
  const unanimous = new Float64Array(numClasses);
  unanimous[0] = numTeachers;
  const logq = computeLogqGaussian(unanimous, sigma);
  const dep = rdpGaussian(logq, sigma, orders);
  const out: boolean[] = [];
  for (let k = 0; k < orders.length; k++) out.push(isClose(dep[k], rdpDataIndependentGaussian(sigma, orders[k])));
  return out;
}

/** numpy.isclose defaults. */
export function isClose(a: number, b: number, rtol = 1e-5, atol = 1e-8): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}
