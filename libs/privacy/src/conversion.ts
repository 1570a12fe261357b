/**
 * RDP → (ε, δ) conversions. All quantities in natural-log units; `optimalOrder` is the order at
 * which the minimum is attained, taking the first minimum in list order (numpy.argmin), so that
 * unsorted lists with duplicates (the PATE list) report what upstream reports.
 */

export interface EpsilonResult {
  readonly epsilon: number;
  readonly optimalOrder: number;
}

export interface DeltaResult {
  readonly delta: number;
  readonly optimalOrder: number;
}

export interface ConversionOptions {
  /**
   * Use `>=` instead of `>` in the KL shortcut δ² + expm1(-rdp) > 0 ⇒ ε = 0. dp_accounting (the
   * default) uses `>`; TF Privacy's get_privacy_spent used `>=`. Only matters on exact ties.
   */
  readonly klInclusive?: boolean;
}

function checkLengths(orders: ArrayLike<number>, rdp: ArrayLike<number>): void {
  if (orders.length !== rdp.length) throw new RangeError(`orders and rdp must have the same length (${orders.length} vs ${rdp.length})`);
  if (orders.length === 0) throw new RangeError('orders must not be empty');
}

/** log1p(-1/a), log(a), 1/(a-1) per order, cached per order-list object: the conversion runs on every charge. */
interface OrderTerms {
  readonly orders: Float64Array;
  readonly log1pMinusInv: Float64Array;
  readonly logA: Float64Array;
  readonly invAm1: Float64Array;
}
const orderTermsCache = new WeakMap<object, OrderTerms>();

function orderTerms(orders: ArrayLike<number>): OrderTerms {
  const key = orders as unknown as object;
  const hit = orderTermsCache.get(key);
  // A frozen list cannot have changed; anything else is compared element by element.
  if (hit && (Object.isFrozen(key) || sameOrders(hit.orders, orders))) return hit;
  const n = orders.length;
  const t: OrderTerms = {
    orders: Float64Array.from(orders),
    log1pMinusInv: new Float64Array(n),
    logA: new Float64Array(n),
    invAm1: new Float64Array(n),
  };
  for (let k = 0; k < n; k++) {
    const a = orders[k];
    t.log1pMinusInv[k] = Math.log1p(-1 / a);
    t.logA[k] = Math.log(a);
    t.invAm1[k] = 1 / (a - 1);
  }
  orderTermsCache.set(key, t);
  return t;
}

/** Cache hits are re-validated element by element: a caller may mutate its order array. */
function sameOrders(a: Float64Array, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/**
 * Improved conversion (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential
 * Privacy", Prop. 12; equivalently Asoodeh et al. 2020 eq. 20), as dp_accounting compute_epsilon:
 *   ε_α = rdp_α + log1p(-1/α) - log(δ α)/(α - 1)  for α > 1.01,
 *   ε_α = 0 if δ² + expm1(-rdp_α) > 0 (Pinsker/KL bound δ ≤ √(1 - e^{-KL})),
 * ε = max(0, min_α ε_α). Negative RDP (numerical noise from extreme events) counts as ε_α = 0.
 */
export function epsilonFromRdp(
  orders: ArrayLike<number>,
  rdp: ArrayLike<number>,
  delta: number,
  options: ConversionOptions = {},
): EpsilonResult {
  if (!(delta >= 0) || delta > 1) throw new RangeError(`delta must be in [0, 1], got ${delta}`);
  checkLengths(orders, rdp);
  if (delta === 0) {
    for (let k = 0; k < rdp.length; k++) if (rdp[k] !== 0) return { epsilon: Infinity, optimalOrder: 0 };
    return { epsilon: 0, optimalOrder: 0 };
  }
  const t = orderTerms(orders);
  const delta2 = delta * delta;
  const logDelta = Math.log(delta);
  const inclusive = options.klInclusive === true;
  // δ² + expm1(-r) > 0  ⇔  r < -log1p(-δ²): one log per call instead of an expm1 per order. Within
  // a relative 1e-12 band around the boundary the original test decides, so ties go as upstream.
  const rKl = -Math.log1p(-delta2);
  const rKlLo = rKl * (1 - 1e-12);
  const rKlHi = rKl * (1 + 1e-12);
  let best = Infinity;
  let bestK = 0;
  const ord = t.orders;
  for (let k = 0; k < rdp.length; k++) {
    const r = rdp[k];
    let e: number;
    if (r < 0) {
      e = 0;
    } else {
      let klHolds: boolean;
      if (r < rKlLo) klHolds = true;
      else if (r > rKlHi) klHolds = false;
      else {
        const kl = delta2 + Math.expm1(-r);
        klHolds = inclusive ? kl >= 0 : kl > 0;
      }
      if (klHolds) e = 0;
      else if (ord[k] > 1.01) e = r + t.log1pMinusInv[k] - (logDelta + t.logA[k]) * t.invAm1[k];
      else e = Infinity;
    }
    // First minimum, as numpy.argmin.
    if (k === 0 || e < best) {
      best = e;
      bestK = k;
    }
  }
  return { epsilon: Math.max(0, best), optimalOrder: orders[bestK] };
}

/**
 * δ from ε with the same improved bound (Canonne, Kamath, Steinke 2020, Prop. 12), as
 * dp_accounting compute_delta:
 *   log δ_α = min(½ log1p(-e^{-rdp}), (α-1)(rdp - ε + log1p(-1/α)) - log α), the second term
 * only for α > 1.01; δ = min(1, exp(min_α log δ_α)).
 */
export function deltaFromRdp(orders: ArrayLike<number>, rdp: ArrayLike<number>, epsilon: number): DeltaResult {
  if (!(epsilon >= 0)) throw new RangeError(`epsilon must be non-negative, got ${epsilon}`);
  checkLengths(orders, rdp);
  const t = orderTerms(orders);
  let best = Infinity;
  let bestK = -1;
  for (let k = 0; k < rdp.length; k++) {
    const r = rdp[k];
    const a = orders[k];
    let logDelta: number;
    if (r <= 0) logDelta = -Infinity;
    else logDelta = 0.5 * Math.log1p(-Math.exp(-r));
    if (a > 1.01 && r >= 0) {
      const bound = (a - 1) * (r - epsilon + t.log1pMinusInv[k]) - t.logA[k];
      if (bound < logDelta) logDelta = bound;
    }
    if (bestK < 0 || logDelta < best) {
      best = logDelta;
      bestK = k;
    }
  }
  return { delta: Math.min(Math.exp(best), 1), optimalOrder: orders[bestK] };
}

/**
 * Basic conversion (Mironov 2017, "Rényi Differential Privacy", Prop. 3), the one the PATE
 * papers report: ε = min_α rdp_α - log δ/(α - 1). No clamping, no KL branch
 * (pate_2018/core.py compute_eps_from_delta); for comparison with published figures.
 */
export function epsilonFromRdpBasic(orders: ArrayLike<number>, rdp: ArrayLike<number>, delta: number): EpsilonResult {
  if (!(delta > 0) || delta > 1) throw new RangeError(`delta must be in (0, 1], got ${delta}`);
  checkLengths(orders, rdp);
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestK = -1;
  for (let k = 0; k < rdp.length; k++) {
    const e = rdp[k] - logDelta / (orders[k] - 1);
    if (bestK < 0 || e < best) {
      best = e;
      bestK = k;
    }
  }
  return { epsilon: best, optimalOrder: orders[bestK] };
}
