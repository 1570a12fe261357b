import { type ChainEntry, verifyChain, verifyGroups } from '@concord/crypto';
import {
  type Conversion,
  conversionAdmits,
  CONVERSIONS,
  DpEventError,
  epsilonOfTotal,
  parseDpEvent,
  rdpOfEvent,
  UnsupportedEventError,
} from '@concord/privacy';
import { ledgerEntryBody } from './entry-body';
import type { LedgerGroup, StoredEntry } from './ledger.repository';

export interface BudgetRow {
  institutionId: string;
  epsilonCap: number;
  delta: number;
  /** How the budget converts its total to ε ('improved' or 'analytic_gaussian'), as opened. */
  conversion: string;
  orders: readonly number[];
  rdp: readonly number[];
  epsilonSpent: number;
  lastSeq: number;
  lastHash: string;
}

export interface LedgerProblem {
  institutionId: string;
  seq?: number;
  problem: string;
  detail?: string;
}

/** Relative tolerance for recomputed float64 figures (they are recomputed by the same code, in the same order). */
const RTOL = 1e-12;

function close(a: number, b: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= RTOL * Math.max(Math.abs(a), Math.abs(b));
}

function sameVector(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => close(x, b[i]));
}

/**
 * Re-walks one institution's chain from its stored rows, trusting nothing that is cached:
 * seq continuity, previous-hash links and hashes (body rebuilt from the columns), the coordinator's
 * signature on each hash or on the entry's group digest (that the digest is the digest of exactly
 * its group is checked across chains, by verifyLedger), each charge's RDP recomputed from its stored event, the running total and
 * ε recomputed at each step (with the conversion the budget was opened with) and checked against the cap in force, and the budget row's caches
 * recomputed from the chain.
 */
export function verifyInstitutionLedger(
  budget: BudgetRow | undefined,
  entries: readonly StoredEntry[],
  publicKey: Uint8Array,
  /** Group signatures already checked (see VerifyChainOptions.groupSignatures). */
  groupSignatures: Map<string, boolean> = new Map(),
): LedgerProblem[] {
  const institutionId = budget?.institutionId ?? entries[0]?.institutionId ?? 'unknown';
  const problems: LedgerProblem[] = [];
  const report = (problem: string, seq?: number, detail?: string): void => {
    problems.push({ institutionId, ...(seq !== undefined ? { seq } : {}), problem, ...(detail ? { detail } : {}) });
  };
  if (!budget) {
    report('budget_missing', undefined, 'ledger entries exist for an institution without a budget row');
    return problems;
  }

  const chain: ChainEntry[] = entries.map((e) => ({
    seq: e.seq,
    prevHash: e.prevHash,
    hash: e.hash,
    groupDigest: e.groupDigest,
    signature: e.signature,
    body: ledgerEntryBody(e),
  }));
  const verification = verifyChain(chain, publicKey, {
    expectedHead: { seq: budget.lastSeq, hash: budget.lastHash },
    groupSignatures,
  });
  for (const p of verification.problems) report(p.problem, p.seq);

  const first = entries[0];
  if (!first || first.kind !== 'budget_opened') {
    report('not_opened', first?.seq, 'the first entry must open the budget');
    return problems;
  }
  const opened = first.details as { orders?: unknown; delta?: unknown; conversion?: unknown };
  const orders = Array.isArray(opened.orders) ? (opened.orders as number[]) : [];
  if (!sameVector(orders, budget.orders))
    report('orders_changed', undefined, 'the budget row order list differs from the one the ledger opened with');
  if (opened.delta !== budget.delta) report('delta_changed', undefined, `budget δ ${budget.delta} but opened with ${String(opened.delta)}`);
  if (opened.conversion !== budget.conversion) {
    report('conversion_changed', undefined, `budget conversion ${budget.conversion} but opened with ${String(opened.conversion)}`);
  }
  if (!CONVERSIONS.includes(opened.conversion as Conversion)) {
    report('conversion_unknown', first.seq, `the budget was opened with conversion ${String(opened.conversion)}`);
    return problems;
  }
  // ε is recomputed with the conversion the budget was opened with (hashed into its first entry).
  const conversion = opened.conversion as Conversion;

  const total = new Float64Array(orders.length);
  let cap = first.epsilonCap;
  let spent = 0;
  for (const entry of entries) {
    if (entry.kind === 'budget_opened' && entry !== first) report('reopened', entry.seq);
    if (entry.kind === 'budget_changed') {
      const d = entry.details as { epsilonCapBefore?: unknown; epsilonCapAfter?: unknown };
      if (d.epsilonCapBefore !== cap || d.epsilonCapAfter !== entry.epsilonCap) report('cap_change_inconsistent', entry.seq);
      if (entry.epsilonCap < spent) report('cap_below_spent', entry.seq);
      cap = entry.epsilonCap;
    }
    if (entry.kind === 'charge') {
      let rdp: Float64Array;
      try {
        const event = parseDpEvent(entry.event);
        rdp = rdpOfEvent(event, orders);
        if (!conversionAdmits(conversion, event)) {
          report('event_not_admitted', entry.seq, `${event.kind} is not a composition of Gaussian mechanisms (${conversion} budget)`);
          continue;
        }
      } catch (err) {
        if (!(err instanceof DpEventError) && !(err instanceof UnsupportedEventError)) throw err;
        report('event_invalid', entry.seq, err.message);
        continue;
      }
      if (!sameVector(Array.from(rdp), entry.rdp)) report('rdp_mismatch', entry.seq, 'stored RDP is not the RDP of the stored event');
      for (let k = 0; k < total.length; k++) total[k] += rdp[k];
      spent = epsilonOfTotal(conversion, orders, total, budget.delta).epsilon;
      if (entry.epsilonCap !== cap) report('cap_changed_without_entry', entry.seq);
      if (spent > cap * (1 + RTOL)) report('overspend', entry.seq, `ε ${spent} > cap ${cap}`);
    }
    if (!close(entry.epsilonSpent, spent)) report('epsilon_mismatch', entry.seq, `stored ${entry.epsilonSpent}, recomputed ${spent}`);
  }
  if (!sameVector(Array.from(total), budget.rdp))
    report('cached_rdp_mismatch', undefined, 'the budget row RDP total differs from the sum of the charged events');
  if (!close(budget.epsilonSpent, spent))
    report('cached_epsilon_mismatch', undefined, `cached ${budget.epsilonSpent}, recomputed ${spent}`);
  if (budget.epsilonCap !== cap) report('cached_cap_mismatch', undefined, `cached cap ${budget.epsilonCap}, ledger cap ${cap}`);
  return problems;
}

export interface LedgerVerificationReport {
  institutions: number;
  entries: number;
  verified: boolean;
  problems: LedgerProblem[];
}

/** The data `verifyLedger` reads (the ledger repository provides it). */
export interface LedgerSource {
  listBudgets(): Promise<BudgetRow[]>;
  institutionsWithEntries(): Promise<string[]>;
  allEntries(institutionId: string): Promise<StoredEntry[]>;
  groups(afterDigest: string | null, limit: number): Promise<LedgerGroup[]>;
}

/** Signing groups checked per page, so that memory does not grow with the ledger. */
const GROUP_PAGE = 1000;

/**
 * Verifies every institution's chain, then every signing group across chains (each group digest
 * must be the digest of exactly the entries carrying it: an entry deleted from its group, added to
 * one or moved between groups is caught here); one report for the whole ledger.
 */
export async function verifyLedger(source: LedgerSource, publicKey: Uint8Array): Promise<LedgerVerificationReport> {
  const budgets = await source.listBudgets();
  const byId = new Map(budgets.map((b) => [b.institutionId, b]));
  const ids = new Set([...byId.keys(), ...(await source.institutionsWithEntries())]);
  const problems: LedgerProblem[] = [];
  const groupSignatures = new Map<string, boolean>();
  let entries = 0;
  for (const id of [...ids].sort()) {
    const chain = await source.allEntries(id);
    entries += chain.length;
    problems.push(...verifyInstitutionLedger(byId.get(id), chain, publicKey, groupSignatures));
    // The cache only spares verifying a group's signature once per entry; bound it.
    if (groupSignatures.size > 10 * GROUP_PAGE) groupSignatures.clear();
  }
  for (let after: string | null = null; ;) {
    const page = await source.groups(after, GROUP_PAGE);
    for (const group of page) {
      const members = group.members.map((m) => ({ ...m, groupDigest: group.groupDigest }));
      for (const p of verifyGroups(members)) {
        for (const m of members) {
          problems.push({
            institutionId: m.institutionId,
            seq: m.seq,
            problem: p.problem,
            detail: `group ${p.groupDigest} (${p.hashes.length} entries)`,
          });
        }
      }
    }
    if (page.length < GROUP_PAGE) break;
    after = page[page.length - 1].groupDigest;
  }
  return { institutions: ids.size, entries, verified: problems.length === 0, problems };
}
