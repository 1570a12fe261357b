import type { DpEvent } from './events/dp-event';
import { epsilonFromRdp } from './conversion';
import { UnsupportedEventError } from './events/errors';
import { brentRoot } from './special/brent';
import { logNdtr } from './special/ndtr';
import { rdpOfEvent } from './rdp-of-event';

/**
 * Exact (ε, δ) of Gaussian mechanisms. A Gaussian mechanism of L2 sensitivity Δ and noise σ is
 * μ-GDP with μ = Δ/σ, and any (adaptive) composition of Gaussian mechanisms μ_i is exactly
 * √(Σ μ_i²)-GDP (Dong, Roth, Su 2022, Cor. 2.5 / Thm 3.2). Its privacy profile is the analytic
 * Gaussian mechanism's (Balle & Wang 2018, Thm 8):
 *
 *   δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2),
 *
 * tight: no smaller ε holds at that δ. The RDP conversion of the same composition (what the ledger
 * charges) is an upper bound on it, ~8 % above at ε ≈ 2 and δ = 1e-5.
 */

/** δ(ε) of μ-GDP, computed in log space so that neither term underflows in the tails. */
export function deltaOfGaussianDp(mu: number, epsilon: number): number {
  if (!(mu >= 0)) throw new RangeError(`mu must be non-negative, got ${mu}`);
  if (!(epsilon >= 0)) throw new RangeError(`epsilon must be non-negative, got ${epsilon}`);
  if (mu === 0) return 0;
  if (mu === Infinity) return 1;
  if (epsilon === Infinity) return 0;
  const a = logNdtr(-epsilon / mu + mu / 2);
  const b = epsilon + logNdtr(-epsilon / mu - mu / 2);
  // δ = e^a (1 − e^(b−a)); b ≤ a always (δ ≥ 0); rounding may make them cross by an ulp.
  return b >= a ? 0 : -Math.exp(a) * Math.expm1(b - a);
}

/** The smallest ε ≥ 0 with δ(ε) ≤ delta for μ-GDP (δ(ε) decreases in ε). */
export function epsilonOfGaussianDp(mu: number, delta: number): number {
  if (!(mu >= 0)) throw new RangeError(`mu must be non-negative, got ${mu}`);
  if (!(delta > 0 && delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${delta}`);
  if (mu === Infinity) return Infinity;
  if (deltaOfGaussianDp(mu, 0) <= delta) return 0;
  let hi = 1;
  while (deltaOfGaussianDp(mu, hi) > delta) hi *= 2;
  return brentRoot((e) => deltaOfGaussianDp(mu, e) - delta, hi / 2 < 1 ? 0 : hi / 2, hi);
}

/**
 * Whether an event's data-independent analysis is a composition of Gaussian mechanisms (a
 * Poisson-sampled Gaussian is not: it is not GDP-exact). Every kind is listed, so that a new one
 * must be classified here.
 */
function isGaussianComposition(event: DpEvent): boolean {
  switch (event.kind) {
    case 'no_op':
    case 'non_private':
    case 'gaussian':
    case 'gnmax':
    case 'gnmax_threshold':
    case 'confident_gnmax':
    case 'gaussian_soft_labels':
      return true;
    case 'poisson_sampled':
      return false;
    case 'unsupported':
      throw new UnsupportedEventError('unsupported', event.description);
    case 'self_composed':
      return event.count === 0 || isGaussianComposition(event.event);
    case 'composed':
      return event.events.every(isGaussianComposition);
    default: {
      const never: never = event;
      throw new UnsupportedEventError(String((never as { kind?: unknown }).kind));
    }
  }
}

/**
 * Σ μ² of an event's data-independent analysis if the event is a composition of Gaussian
 * mechanisms, else null. The RDP of a Gaussian composition is α μ²/2 at every order, so μ² is its
 * RDP at α = 2: the sensitivities are those of `rdpOfEvent`, stated once (a test checks the curve
 * is linear for every kind admitted here).
 */
export function gaussianMuSquaredOfEvent(event: DpEvent): number | null {
  return isGaussianComposition(event) ? rdpOfEvent(event, [2])[0] : null;
}

/** Exact ε at δ of an event that is a composition of Gaussian mechanisms; null for any other event. */
export function exactGaussianEpsilon(event: DpEvent, delta: number): number | null {
  const mu2 = gaussianMuSquaredOfEvent(event);
  return mu2 === null ? null : epsilonOfGaussianDp(Math.sqrt(mu2), delta);
}

/**
 * μ² of an RDP total that is a composition of Gaussian mechanisms (RDP α μ²/2 at every order).
 * Throws if the curve is not of that form: the total then holds something that is not Gaussian,
 * and the exact conversion would not be valid for it.
 */
export function gaussianMuSquaredOfRdp(orders: ArrayLike<number>, rdp: ArrayLike<number>): number {
  if (rdp.length !== orders.length || orders.length === 0) throw new RangeError('rdp and orders must have the same, non-zero length');
  let mu2 = 0;
  for (let k = 0; k < orders.length; k++) mu2 = Math.max(mu2, (2 * rdp[k]) / orders[k]);
  if (mu2 === Infinity) return Infinity;
  for (let k = 0; k < orders.length; k++) {
    const here = (2 * rdp[k]) / orders[k];
    if (!(here >= 0) || mu2 - here > 1e-9 * mu2) {
      throw new RangeError(`not a composition of Gaussian mechanisms: RDP/α is ${here / 2} at order ${orders[k]}, ${mu2 / 2} elsewhere`);
    }
  }
  return mu2;
}

/**
 * How a budget turns its running RDP total into ε at its δ. Fixed when the budget is opened.
 * - `improved`: the RDP conversion (Canonne–Kamath–Steinke 2020, Prop. 12) at the best order; valid
 *   for any event, an upper bound.
 * - `analytic_gaussian`: the budget admits only compositions of Gaussian mechanisms (all of PATE's
 *   data-independent analyses are), so its total is exactly √(Σ μ²)-GDP; ε is the analytic
 *   Gaussian's, tight. As a filter (refuse what would pass the cap) this is valid under fully
 *   adaptive composition (Smith & Thakurta 2022).
 */
export type Conversion = 'improved' | 'analytic_gaussian';
export const CONVERSIONS: readonly Conversion[] = Object.freeze(['improved', 'analytic_gaussian'] as const);

export interface TotalEpsilon {
  readonly epsilon: number;
  /** The RDP order the improved conversion used; null for the exact conversion, which has none. */
  readonly optimalOrder: number | null;
}

/** ε at δ of a budget's running RDP total under the budget's conversion. */
export function epsilonOfTotal(conversion: Conversion, orders: ArrayLike<number>, rdp: ArrayLike<number>, delta: number): TotalEpsilon {
  if (conversion === 'analytic_gaussian') {
    return { epsilon: epsilonOfGaussianDp(Math.sqrt(gaussianMuSquaredOfRdp(orders, rdp)), delta), optimalOrder: null };
  }
  if (conversion !== 'improved') throw new RangeError(`unknown conversion ${String(conversion)}`);
  return epsilonFromRdp(orders, rdp, delta);
}

/** Whether a budget with this conversion can be charged with `event`. */
export function conversionAdmits(conversion: Conversion, event: DpEvent): boolean {
  return conversion === 'improved' || gaussianMuSquaredOfEvent(event) !== null;
}
