import { type Conversion, conversionAdmits, type DpEvent, DPA_ORDERS, epsilonOfTotal, parseDpEvent, rdpOfEvent } from '@concord/privacy';
import { appendLineDurably, readJsonLines } from './files';

/**
 * The agent's own privacy ledger: one JSON line per batch attempt it agreed to answer, written
 * (and fsynced) BEFORE the answer leaves the site, so a crash can over-count but never under-count.
 * Append-only: the agent never rewrites or deletes a line. The RDP vector is stored for the
 * record; totals are recomputed from the events, so a hand-edited vector changes nothing.
 *
 * ε is the exact analytic-Gaussian figure while every charge is a composition of Gaussian mechanisms
 * (the agent's own batch events always are), as the coordinator's budgets do; a ledger holding
 * anything else falls back to the improved RDP conversion. (Charges decided under the RDP
 * conversion also fit under the exact one, which is never larger, so the switch is sound.)
 */
export interface LocalLedgerEntry {
  kind: 'charge';
  jobId: string;
  batchId: string;
  seq: number;
  attempt: number;
  /** The data-independent event of the batch attempt as the agent computed it. */
  event: DpEvent;
  /** RDP at DPA_ORDERS, nats. */
  rdp: number[];
  epsilonBefore: number;
  epsilonAfter: number;
  delta: number;
  time: string;
}

/** The orders every local figure uses (dp_accounting's defaults, as the coordinator's budgets). */
export const LOCAL_ORDERS: readonly number[] = DPA_ORDERS;

export class LocalPrivacyLedger {
  private constructor(
    readonly path: string,
    private readonly entries: LocalLedgerEntry[],
    private readonly total: Float64Array,
    /** Whether every charge so far is a composition of Gaussian mechanisms. */
    private gaussian: boolean,
  ) {}

  static async open(path: string): Promise<LocalPrivacyLedger> {
    const lines = await readJsonLines(path);
    const entries: LocalLedgerEntry[] = [];
    const total = new Float64Array(LOCAL_ORDERS.length);
    let gaussian = true;
    lines.forEach((line, i) => {
      const entry = line as LocalLedgerEntry;
      if (entry?.kind !== 'charge') throw new Error(`${path}: line ${i + 1} is not a charge`);
      // parseDpEvent validates untrusted JSON; the file is ours, but a hand edit must not pass silently.
      const event = parseDpEvent(entry.event);
      rdpOfEvent(event, LOCAL_ORDERS).forEach((r, k) => (total[k] += r));
      gaussian &&= conversionAdmits('analytic_gaussian', event);
      entries.push(entry);
    });
    return new LocalPrivacyLedger(path, entries, total, gaussian);
  }

  get runningRdp(): Float64Array {
    return Float64Array.from(this.total);
  }

  get all(): readonly LocalLedgerEntry[] {
    return this.entries;
  }

  get last(): LocalLedgerEntry | undefined {
    return this.entries[this.entries.length - 1];
  }

  /** The conversion of the total after charging `next` (if given). */
  conversionWith(next?: DpEvent): Conversion {
    return this.gaussian && (next === undefined || conversionAdmits('analytic_gaussian', next)) ? 'analytic_gaussian' : 'improved';
  }

  /** ε spent so far at δ (see the class comment for the conversion). */
  epsilonSpent(delta: number): number {
    if (this.entries.length === 0) return 0;
    return epsilonOfTotal(this.conversionWith(), LOCAL_ORDERS, this.total, delta).epsilon;
  }

  /** True if this batch attempt is already charged (the agent is resuming it). */
  hasCharge(jobId: string, batchId: string, attempt: number): boolean {
    return this.entries.some((e) => e.jobId === jobId && e.batchId === batchId && e.attempt === attempt);
  }

  async append(entry: LocalLedgerEntry): Promise<void> {
    const rdp = rdpOfEvent(entry.event, LOCAL_ORDERS);
    await appendLineDurably(this.path, JSON.stringify(entry));
    this.entries.push(entry);
    rdp.forEach((r, k) => (this.total[k] += r));
    this.gaussian &&= conversionAdmits('analytic_gaussian', entry.event);
  }
}
