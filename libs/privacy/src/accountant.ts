import type { DpEvent } from './events/dp-event';
import { deltaFromRdp, epsilonFromRdp, epsilonFromRdpBasic } from './conversion';
import type { DeltaResult, EpsilonResult } from './conversion';
import { DPA_ORDERS, checkOrders } from './orders';
import { addRdpOfEvent } from './rdp-of-event';
import type { AccountingMode } from './rdp-of-event';

/**
 * RDP accountant: a running RDP vector over a fixed order list; events compose by adding their
 * RDP (Mironov 2017, Prop. 1). A thin stateful shell over the pure functions in rdp/, pate/ and
 * conversion.ts. Composition is all-or-nothing: an event that cannot be analysed leaves the total
 * untouched.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  readonly mode: AccountingMode;
  private readonly total: Float64Array;
  private readonly scratch: Float64Array;

  constructor(orders: ArrayLike<number> = DPA_ORDERS, mode: AccountingMode = 'data_independent') {
    checkOrders(orders);
    this.orders = Object.isFrozen(orders) && Array.isArray(orders) ? (orders as readonly number[]) : Object.freeze(Array.from(orders));
    this.mode = mode;
    this.total = new Float64Array(orders.length);
    this.scratch = new Float64Array(orders.length);
  }

  /** Adds `count` sequential copies of `event`. Throws UnsupportedEventError (total unchanged). */
  compose(event: DpEvent, count = 1): this {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
    this.scratch.fill(0);
    // Analyse the event even for count 0, so that an unsupported event is refused either way.
    addRdpOfEvent(this.scratch, event, this.orders, this.mode, 1);
    if (count === 0) return this; // 0 · ∞ would be NaN
    for (let k = 0; k < this.total.length; k++) this.total[k] += count * this.scratch[k];
    return this;
  }

  /** Adds an RDP vector computed elsewhere (e.g. a ledger's cached entry). Negative values are refused. */
  composeRdp(rdp: ArrayLike<number>): this {
    if (rdp.length !== this.total.length) throw new RangeError(`rdp must have ${this.total.length} entries, got ${rdp.length}`);
    for (let k = 0; k < rdp.length; k++) if (!(rdp[k] >= 0)) throw new RangeError(`rdp[${k}] must be non-negative, got ${rdp[k]}`);
    for (let k = 0; k < rdp.length; k++) this.total[k] += rdp[k];
    return this;
  }

  /** A copy of the running RDP vector (nats, aligned with `orders`). */
  get rdp(): Float64Array {
    return Float64Array.from(this.total);
  }

  /** ε at δ, improved conversion (Canonne–Kamath–Steinke 2020, Prop. 12). */
  getEpsilon(delta: number): EpsilonResult {
    return epsilonFromRdp(this.orders, this.total, delta);
  }

  /** δ at ε, improved conversion. */
  getDelta(epsilon: number): DeltaResult {
    return deltaFromRdp(this.orders, this.total, epsilon);
  }

  /** ε at δ with the basic conversion (Mironov 2017, Prop. 3), as the PATE papers report. */
  getEpsilonBasic(delta: number): EpsilonResult {
    return epsilonFromRdpBasic(this.orders, this.total, delta);
  }
}
