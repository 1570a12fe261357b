import type { DpEvent } from './events/dp-event';
import { type Conversion, conversionAdmits, epsilonOfTotal } from './gaussian-dp';
import { UnsupportedEventError } from './events/errors';
import { rdpOfEvent } from './rdp-of-event';
import type { AccountingMode } from './rdp-of-event';

export interface PrivacyCap {
  readonly epsilon: number;
  readonly delta: number;
}

export interface FitResult {
  readonly fits: boolean;
  /** ε (at cap.delta, under the conversion given) of the running total plus the candidate. */
  readonly epsilonAfter: number;
  /** The improved conversion's best order; null under the exact Gaussian conversion. */
  readonly optimalOrder: number | null;
  /** The candidate's RDP vector, so that a caller that charges it stores exactly what was checked. */
  readonly candidateRdp: Float64Array;
}

function candidateRdpOf(candidate: DpEvent | ArrayLike<number>, orders: ArrayLike<number>, mode: AccountingMode): Float64Array {
  if (typeof candidate === 'object' && candidate !== null && 'kind' in candidate) return rdpOfEvent(candidate, orders, mode);
  const arr = candidate;
  if (arr.length !== orders.length) throw new RangeError(`candidate rdp must have ${orders.length} entries, got ${arr.length}`);
  // A typed array is copied as memory, without the iterator protocol `Float64Array.from` goes through.
  return arr instanceof Float64Array ? arr.slice() : Float64Array.from(arr);
}

/**
 * Would charging `candidate` keep the total within the cap? A filter in the sense of Rogers et al.
 * 2016 / Feldman–Zrnic 2021 (OpenDP privacy_filter): the check is made on the running RDP plus the
 * candidate's worst-case RDP before anything is released. Under the `analytic_gaussian` conversion
 * the total must stay a composition of Gaussian mechanisms: another event is refused
 * (UnsupportedEventError) and an RDP vector that is not of that form throws a RangeError. Costs are never negative (a negative
 * candidate entry is an error, not a refund); a total that is already over the cap stays over.
 */
export function checkFits(
  runningRdp: ArrayLike<number>,
  orders: ArrayLike<number>,
  cap: PrivacyCap,
  candidate: DpEvent | ArrayLike<number>,
  mode: AccountingMode = 'data_independent',
  conversion: Conversion = 'improved',
): FitResult {
  if (typeof candidate === 'object' && candidate !== null && 'kind' in candidate && !conversionAdmits(conversion, candidate)) {
    throw new UnsupportedEventError(
      candidate.kind,
      `a budget with the ${conversion} conversion admits only compositions of Gaussian mechanisms`,
    );
  }
  if (runningRdp.length !== orders.length) throw new RangeError('runningRdp and orders must have the same length');
  if (!(cap.epsilon >= 0)) throw new RangeError(`cap.epsilon must be non-negative, got ${cap.epsilon}`);
  if (!(cap.delta > 0 && cap.delta < 1)) throw new RangeError(`cap.delta must be in (0, 1), got ${cap.delta}`);
  const c = candidateRdpOf(candidate, orders, mode);
  const after = new Float64Array(orders.length);
  for (let k = 0; k < after.length; k++) {
    if (!(c[k] >= 0)) throw new RangeError(`candidate cost at order ${orders[k]} must be non-negative, got ${c[k]}`);
    if (!(runningRdp[k] >= 0)) throw new RangeError(`running total at order ${orders[k]} must be non-negative, got ${runningRdp[k]}`);
    after[k] = runningRdp[k] + c[k];
  }
  const { epsilon, optimalOrder } = epsilonOfTotal(conversion, orders, after, cap.delta);
  return { fits: epsilon <= cap.epsilon, epsilonAfter: epsilon, optimalOrder, candidateRdp: c };
}

/** A stateful filter: charges only what fits; there is no way to lower the total. */
export class PrivacyFilter {
  private readonly total: Float64Array;

  constructor(
    readonly orders: readonly number[],
    readonly cap: PrivacyCap,
    readonly mode: AccountingMode = 'data_independent',
    initialRdp?: ArrayLike<number>,
    readonly conversion: Conversion = 'improved',
  ) {
    this.total = new Float64Array(orders.length);
    if (initialRdp) {
      if (initialRdp.length !== orders.length) throw new RangeError('initialRdp must align with orders');
      for (let k = 0; k < orders.length; k++) {
        if (!(initialRdp[k] >= 0)) throw new RangeError(`initialRdp[${k}] must be non-negative`);
        this.total[k] = initialRdp[k];
      }
    }
  }

  check(candidate: DpEvent | ArrayLike<number>): FitResult {
    return checkFits(this.total, this.orders, this.cap, candidate, this.mode, this.conversion);
  }

  /** Charges the candidate if it fits and returns the check; otherwise changes nothing. */
  tryCharge(candidate: DpEvent | ArrayLike<number>): FitResult {
    const r = this.check(candidate);
    if (r.fits) for (let k = 0; k < this.total.length; k++) this.total[k] += r.candidateRdp[k];
    return r;
  }

  get rdp(): Float64Array {
    return Float64Array.from(this.total);
  }

  get epsilonSpent(): number {
    return epsilonOfTotal(this.conversion, this.orders, this.total, this.cap.delta).epsilon;
  }
}

/** Alias kept for callers that think of the filter as a function. */
export const privacyFilter = checkFits;
