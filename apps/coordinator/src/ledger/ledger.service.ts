import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { GENESIS_HASH, hashEntry } from '@concord/crypto';
import {
  checkFits,
  DP_EVENT_SCHEMA_VERSION,
  DPA_ORDERS,
  DpEventError,
  epsilonFromRdp,
  parseDpEvent,
  rdpOfEvent,
  UnsupportedEventError,
  type DpEvent,
} from '@concord/privacy';
import { InvalidInputException, ProblemException } from '../common/problem';
import type { PrivacyBudgetEntity } from './entities/privacy-budget.entity';
import { ledgerEntryBody, type LedgerEntryFields } from './entry-body';
import { LedgerKey } from './ledger-key';
import {
  batchKey,
  type BudgetCacheUpdate,
  type BudgetWithName,
  LedgerRepository,
  LedgerTransaction,
  type NewEntry,
  type StoredEntry,
  type TransactionScope,
} from './ledger.repository';

export const ACCOUNTANT = 'rdp';
export const CONVERSION = 'improved';

/** Who changed a budget, for the ledger's record. */
export interface Actor {
  kind: 'api_key' | 'system';
  id: string;
  role?: string;
}

export interface OpenBudgetRequest {
  institutionId: string;
  epsilonCap: number;
  delta: number;
  actor: Actor;
  reason: string;
  orders?: readonly number[];
}

export interface ChargeRequest<T> {
  jobId: string;
  batchId: string;
  /** One event per participating institution (usually the same event for all). */
  charges: readonly { institutionId: string; event: DpEvent }[];
  /** Writes the released labels; runs inside the charge transaction, only if every charge fits. */
  release: (scope: TransactionScope) => Promise<T>;
}

export interface Refusal {
  institutionId: string;
  reason: 'cap_exceeded' | 'budget_frozen';
  epsilonSpent: number;
  epsilonAfter: number;
  epsilonCap: number;
}

export type ChargeOutcome<T> =
  | { status: 'charged'; replayed: false; entries: StoredEntry[] | NewEntry[]; released: T }
  | { status: 'charged'; replayed: true; entries: StoredEntry[] }
  | { status: 'refused'; refusals: Refusal[] };

export interface ChargePreview {
  institutionId: string;
  fits: boolean;
  status: string;
  epsilonSpent: number;
  epsilonAfter: number;
  epsilonCap: number;
  delta: number;
}

export interface BudgetSummary {
  institutionId: string;
  institutionName: string;
  epsilonCap: number;
  delta: number;
  epsilonSpent: number;
  epsilonRemaining: number;
  optimalOrder: number | null;
  accountant: string;
  conversion: string;
  basis: 'data_independent';
  orders: number;
  status: string;
  entries: number;
  updatedAt: Date;
}

export const LEDGER_KEY = Symbol('LEDGER_KEY');

/** At most this many calls are decided in one transaction. */
const MAX_GROUP = 128;

interface PendingCharge {
  jobId: string;
  batchId: string;
  charges: { institutionId: string; event: DpEvent }[];
  release: (scope: TransactionScope) => Promise<unknown>;
  resolve: (outcome: ChargeOutcome<unknown>) => void;
  reject: (error: unknown) => void;
}

type Decision = { ok: true; outcome: ChargeOutcome<unknown> } | { ok: false; error: unknown };

interface RunningBudget {
  budget: PrivacyBudgetEntity;
  rdp: number[];
  lastSeq: number;
  lastHash: string;
  epsilonSpent?: number;
  optimalOrder?: number | null;
}

const MAX_ID_LENGTH = 200;

/**
 * The privacy ledger's rules: a budget is a filter (OpenDP `privacy_filter`) over the RDP total of
 * every charge to it; a charge is written — hash-chained and signed — in the same transaction as
 * the release it pays for, and only if every participant's cap still holds afterwards.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly repository: LedgerRepository,
    @Inject(LEDGER_KEY) private readonly key: LedgerKey,
  ) {}

  get publicKey(): LedgerKey {
    return this.key;
  }

  /** Runs work in one ledger transaction (for callers that write their own rows with a budget). */
  inTransaction<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    return this.repository.transaction(work);
  }

  /** Opens an institution's budget: its first ledger entry records the cap, δ and order list. */
  async openBudget(tx: LedgerTransaction, request: OpenBudgetRequest): Promise<StoredEntry | NewEntry> {
    const orders = [...(request.orders ?? DPA_ORDERS)];
    validateCap(request.epsilonCap, 'epsilonCap');
    if (!(typeof request.delta === 'number' && request.delta > 0 && request.delta < 1)) {
      throw new InvalidInputException([{ field: 'delta', message: 'must be a number in (0, 1)' }]);
    }
    const reason = validateReason(request.reason, false);
    const now = new Date();
    const fields: LedgerEntryFields = {
      institutionId: request.institutionId,
      seq: 1,
      kind: 'budget_opened',
      jobId: null,
      batchId: null,
      event: null,
      eventSchemaVersion: null,
      details: {
        actor: request.actor,
        reason,
        epsilonCap: request.epsilonCap,
        delta: request.delta,
        accountant: ACCOUNTANT,
        conversion: CONVERSION,
        orders,
      },
      rdp: orders.map(() => 0),
      epsilonSpent: 0,
      optimalOrder: null,
      epsilonCap: request.epsilonCap,
      createdAt: now,
    };
    const entry = this.seal(fields, GENESIS_HASH);
    await tx.insertBudget({
      institutionId: request.institutionId,
      epsilonCap: request.epsilonCap,
      delta: request.delta,
      accountant: ACCOUNTANT,
      conversion: CONVERSION,
      orders,
      rdp: orders.map(() => 0),
      epsilonSpent: 0,
      optimalOrder: null,
      status: 'active',
      lastSeq: 1,
      lastHash: entry.hash,
      updatedAt: now,
    });
    await tx.appendEntries([entry], []);
    return entry;
  }

  /**
   * Changes a cap. Every change needs a reason and is itself a ledger entry (who, when, why, old
   * and new cap); a cap below what has already been spent is refused.
   */
  async changeCap(institutionId: string, epsilonCap: number, reason: string, actor: Actor): Promise<StoredEntry | NewEntry> {
    validateCap(epsilonCap, 'epsilonCap');
    const why = validateReason(reason, true);
    return this.repository.transaction(async (tx) => {
      const [budget] = await tx.lockBudgets([institutionId]);
      if (!budget) throw notFound(institutionId);
      if (epsilonCap < budget.epsilonSpent) {
        throw new InvalidInputException([
          {
            field: 'epsilonCap',
            message: `must be at least the ε already spent (${budget.epsilonSpent}); spent privacy cannot be returned`,
          },
        ]);
      }
      const now = new Date();
      const entry = this.seal(
        {
          institutionId,
          seq: budget.lastSeq + 1,
          kind: 'budget_changed',
          jobId: null,
          batchId: null,
          event: null,
          eventSchemaVersion: null,
          details: { actor, reason: why, epsilonCapBefore: budget.epsilonCap, epsilonCapAfter: epsilonCap },
          rdp: budget.orders.map(() => 0),
          epsilonSpent: budget.epsilonSpent,
          optimalOrder: budget.optimalOrder,
          epsilonCap,
          createdAt: now,
        },
        budget.lastHash,
      );
      await tx.appendEntries([entry], [cacheOf(entry, budget.rdp)]);
      return entry;
    });
  }

  /**
   * Charges every participant for one batch and runs the release step, all in one transaction:
   * budget rows are locked in a fixed order, each participant's running RDP is composed with its
   * event, and if any cap would be exceeded nothing is written and nothing released. A call for a
   * (job, batch) already charged returns the stored charges and charges nothing again.
   *
   * Group commit: calls that arrive while a charge transaction is running wait and are then decided
   * together, in arrival order, in the next transaction — one lock acquisition and one write for
   * the whole group instead of one per call. Each call's outcome is exactly what it would be alone
   * in that order (each sees the totals left by the calls before it). If the group's transaction
   * fails (a release step throws, say), every call of the group is run again alone, so one caller's
   * failure is never another's.
   */
  chargeAndRelease<T>(request: ChargeRequest<T>): Promise<ChargeOutcome<T>> {
    let charges: { institutionId: string; event: DpEvent }[];
    try {
      charges = validateCharges(request);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<ChargeOutcome<T>>((resolve, reject) => {
      this.pending.push({
        jobId: request.jobId,
        batchId: request.batchId,
        charges,
        release: request.release,
        resolve: resolve as (outcome: ChargeOutcome<unknown>) => void,
        reject,
      });
      this.startGroup();
    });
  }

  private readonly pending: PendingCharge[] = [];
  private groupRunning = false;

  private startGroup(): void {
    if (this.groupRunning || this.pending.length === 0) return;
    this.groupRunning = true;
    const group = this.pending.splice(0, MAX_GROUP);
    void this.runGroup(group).finally(() => {
      this.groupRunning = false;
      this.startGroup();
    });
  }

  private async runGroup(group: PendingCharge[]): Promise<void> {
    try {
      const decided = await this.repository.transaction((tx) => this.decideGroup(tx, group));
      decided.forEach((d, i) => (d.ok ? group[i].resolve(d.outcome) : group[i].reject(d.error)));
    } catch (err) {
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      for (const charge of group) {
        try {
          const [d] = await this.repository.transaction((tx) => this.decideGroup(tx, [charge]));
          if (d.ok) charge.resolve(d.outcome);
          else charge.reject(d.error);
        } catch (alone) {
          charge.reject(alone);
        }
      }
    }
  }

  /** Decides a group of charges inside one transaction; per-call errors are returned, not thrown. */
  private async decideGroup(tx: LedgerTransaction, group: readonly PendingCharge[]): Promise<Decision[]> {
    const ids = [...new Set(group.flatMap((g) => g.charges.map((c) => c.institutionId)))].sort();
    const budgets = new Map((await tx.lockBudgets(ids)).map((b) => [b.institutionId, b]));
    const stored = await tx.findChargesForBatches(group.map((g) => ({ jobId: g.jobId, batchId: g.batchId })));
    // Running state per institution, advanced by each call charged earlier in this group.
    const state = new Map<string, RunningBudget>();
    for (const b of budgets.values()) {
      state.set(b.institutionId, { budget: b, rdp: b.rdp, lastSeq: b.lastSeq, lastHash: b.lastHash });
    }
    const chargedHere = new Map<string, (StoredEntry | NewEntry)[]>();
    const decisions: Decision[] = [];
    const toRelease: { index: number; release: PendingCharge['release']; entries: NewEntry[] }[] = [];
    const entries: NewEntry[] = [];
    const now = new Date();

    for (const call of group) {
      const missing = call.charges.find((c) => !budgets.has(c.institutionId));
      if (missing) {
        decisions.push({ ok: false, error: notFound(missing.institutionId) });
        continue;
      }
      const key = batchKey(call.jobId, call.batchId);
      const wanted = new Set(call.charges.map((c) => c.institutionId));
      const prior = [...(stored.get(key) ?? []), ...(chargedHere.get(key) ?? [])].filter((e) => wanted.has(e.institutionId));
      if (prior.length === wanted.size) {
        decisions.push({ ok: true, outcome: { status: 'charged', replayed: true, entries: prior as StoredEntry[] } });
        continue;
      }
      if (prior.length > 0) {
        decisions.push({
          ok: false,
          error: new ProblemException(
            HttpStatus.CONFLICT,
            'Batch already charged to other participants',
            `batch ${call.batchId} of job ${call.jobId} was charged to ${prior.map((e) => e.institutionId).join(', ')} with a different participant list`,
          ),
        });
        continue;
      }
      const sorted = [...call.charges].sort((a, b) => (a.institutionId < b.institutionId ? -1 : 1));
      const refusals: Refusal[] = [];
      const fits = sorted.map((c) => {
        const s = state.get(c.institutionId)!;
        const fit = checkFits(s.rdp, s.budget.orders, { epsilon: s.budget.epsilonCap, delta: s.budget.delta }, c.event);
        const spent = s.rdp === s.budget.rdp ? s.budget.epsilonSpent : (s.epsilonSpent ?? s.budget.epsilonSpent);
        if (s.budget.status !== 'active') refusals.push(refusalOf(s.budget, 'budget_frozen', spent, fit.epsilonAfter));
        else if (!fit.fits) refusals.push(refusalOf(s.budget, 'cap_exceeded', spent, fit.epsilonAfter));
        return fit;
      });
      if (refusals.length > 0) {
        decisions.push({ ok: true, outcome: { status: 'refused', refusals } });
        continue;
      }
      const callEntries = sorted.map((c, i) => {
        const s = state.get(c.institutionId)!;
        const fit = fits[i];
        const entry = this.seal(
          {
            institutionId: c.institutionId,
            seq: s.lastSeq + 1,
            kind: 'charge',
            jobId: call.jobId,
            batchId: call.batchId,
            event: c.event,
            eventSchemaVersion: DP_EVENT_SCHEMA_VERSION,
            details: null,
            rdp: Array.from(fit.candidateRdp),
            epsilonSpent: fit.epsilonAfter,
            optimalOrder: fit.optimalOrder,
            epsilonCap: s.budget.epsilonCap,
            createdAt: now,
          },
          s.lastHash,
        );
        s.rdp = s.rdp.map((r, k) => r + fit.candidateRdp[k]);
        s.lastSeq = entry.seq;
        s.lastHash = entry.hash;
        s.epsilonSpent = entry.epsilonSpent;
        s.optimalOrder = entry.optimalOrder;
        return entry;
      });
      entries.push(...callEntries);
      chargedHere.set(key, [...(chargedHere.get(key) ?? []), ...callEntries]);
      toRelease.push({ index: decisions.length, release: call.release, entries: callEntries });
      decisions.push({ ok: true, outcome: { status: 'charged', replayed: false, entries: callEntries, released: undefined } });
    }

    if (entries.length > 0) {
      const caches: BudgetCacheUpdate[] = [];
      for (const s of state.values()) {
        if (s.lastSeq === s.budget.lastSeq) continue;
        caches.push({
          institutionId: s.budget.institutionId,
          rdp: s.rdp,
          epsilonSpent: s.epsilonSpent ?? s.budget.epsilonSpent,
          optimalOrder: s.optimalOrder ?? s.budget.optimalOrder,
          epsilonCap: s.budget.epsilonCap,
          lastSeq: s.lastSeq,
          lastHash: s.lastHash,
          updatedAt: now,
        });
      }
      await tx.appendEntries(entries, caches);
    }
    // Release steps run last, in arrival order, inside the same transaction as every charge.
    for (const r of toRelease) {
      const released = await r.release(tx);
      decisions[r.index] = { ok: true, outcome: { status: 'charged', replayed: false, entries: r.entries, released } };
    }
    return decisions;
  }

  async listBudgets(): Promise<BudgetSummary[]> {
    const budgets = await this.repository.listBudgets();
    return budgets.map(summarize);
  }

  /**
   * Would `event` fit each institution's remaining budget now? Read-only: used to refuse a job
   * whose worst-case cost exceeds a participant's budget before it starts.
   */
  async previewCharge(institutionIds: readonly string[], event: DpEvent): Promise<ChargePreview[]> {
    const budgets = new Map((await this.repository.listBudgets(institutionIds)).map((b) => [b.institutionId, b]));
    return institutionIds.map((institutionId) => {
      const budget = budgets.get(institutionId);
      if (!budget) throw notFound(institutionId);
      const fit = checkFits(budget.rdp, budget.orders, { epsilon: budget.epsilonCap, delta: budget.delta }, event);
      return {
        institutionId,
        fits: fit.fits && budget.status === 'active',
        status: budget.status,
        epsilonSpent: summarize(budget).epsilonSpent,
        epsilonAfter: fit.epsilonAfter,
        epsilonCap: budget.epsilonCap,
        delta: budget.delta,
      };
    });
  }

  /**
   * What one job has cost each participant: the RDP of the job's own charges alone, converted at
   * the institution's δ (the institution's total is in its budget).
   */
  async jobCharges(jobId: string): Promise<{ institutionId: string; charges: number; epsilon: number; optimalOrder: number | null }[]> {
    const entries = await this.repository.entriesForJob(jobId);
    const byInstitution = new Map<string, StoredEntry[]>();
    for (const e of entries) byInstitution.set(e.institutionId, [...(byInstitution.get(e.institutionId) ?? []), e]);
    const budgets = new Map((await this.repository.listBudgets([...byInstitution.keys()])).map((b) => [b.institutionId, b]));
    return [...byInstitution.entries()].map(([institutionId, list]) => {
      const budget = budgets.get(institutionId)!;
      const total = budget.orders.map(() => 0);
      for (const e of list) e.rdp.forEach((r, k) => (total[k] += r));
      const { epsilon, optimalOrder } = epsilonFromRdp(budget.orders, total, budget.delta);
      return { institutionId, charges: list.length, epsilon, optimalOrder };
    });
  }

  async getBudget(institutionId: string): Promise<BudgetSummary> {
    const budget = await this.repository.findBudget(institutionId);
    if (!budget) throw notFound(institutionId);
    return summarize(budget);
  }

  async listEntries(institutionId: string, afterSeq: number, limit: number): Promise<{ entries: StoredEntry[]; total: number }> {
    const budget = await this.repository.findBudget(institutionId);
    if (!budget) throw notFound(institutionId);
    const [entries, total] = await Promise.all([
      this.repository.listEntries(institutionId, afterSeq, limit),
      this.repository.countEntries(institutionId),
    ]);
    return { entries, total };
  }

  private seal(fields: LedgerEntryFields, prevHash: string): NewEntry {
    const hash = hashEntry(prevHash, ledgerEntryBody(fields));
    return { ...fields, prevHash, hash, signature: this.key.signEntryHash(hash) };
  }
}

/**
 * ε spent as a compliance officer reads it: the data-independent RDP total converted at the
 * budget's δ with the improved conversion, at the best order of the budget's list. It is computed
 * from the RDP cache each time, so the figure always matches the total it comes from.
 */
export function summarize(budget: BudgetWithName): BudgetSummary {
  const { epsilon, optimalOrder } = epsilonFromRdp(budget.orders, budget.rdp, budget.delta);
  const spent = budget.rdp.every((r) => r === 0) ? 0 : epsilon;
  return {
    institutionId: budget.institutionId,
    institutionName: budget.institutionName,
    epsilonCap: budget.epsilonCap,
    delta: budget.delta,
    epsilonSpent: spent,
    epsilonRemaining: Math.max(0, budget.epsilonCap - spent),
    optimalOrder: spent === 0 ? null : optimalOrder,
    accountant: budget.accountant,
    conversion: budget.conversion,
    basis: 'data_independent',
    orders: budget.orders.length,
    status: budget.status,
    entries: budget.lastSeq,
    updatedAt: budget.updatedAt,
  };
}

function cacheOf(entry: NewEntry, total: readonly number[]): BudgetCacheUpdate {
  return {
    institutionId: entry.institutionId,
    rdp: total,
    epsilonSpent: entry.epsilonSpent,
    optimalOrder: entry.optimalOrder,
    epsilonCap: entry.epsilonCap,
    lastSeq: entry.seq,
    lastHash: entry.hash,
    updatedAt: entry.createdAt,
  };
}

function refusalOf(budget: PrivacyBudgetEntity, reason: Refusal['reason'], epsilonSpent: number, epsilonAfter: number): Refusal {
  return { institutionId: budget.institutionId, reason, epsilonSpent, epsilonAfter, epsilonCap: budget.epsilonCap };
}

function notFound(institutionId: string): ProblemException {
  return new ProblemException(HttpStatus.NOT_FOUND, 'Budget not found', `no privacy budget for institution ${institutionId}`);
}

function validateCap(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidInputException([{ field, message: 'must be a finite number ≥ 0' }]);
  }
}

function validateReason(reason: unknown, required: boolean): string {
  if (typeof reason !== 'string' || (required && reason.trim().length < 3)) {
    throw new InvalidInputException([
      { field: 'reason', message: 'a reason of at least 3 characters is required for every budget change' },
    ]);
  }
  return reason.trim();
}

function validateCharges<T>(request: ChargeRequest<T>): { institutionId: string; event: DpEvent }[] {
  const problems: { field: string; message: string }[] = [];
  for (const [field, value] of [
    ['jobId', request.jobId],
    ['batchId', request.batchId],
  ] as const) {
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
      problems.push({ field, message: `must be a non-empty string of at most ${MAX_ID_LENGTH} characters` });
    }
  }
  if (!Array.isArray(request.charges) || request.charges.length === 0)
    problems.push({ field: 'charges', message: 'at least one participant' });
  const seen = new Set<string>();
  const given: readonly { institutionId: string; event: DpEvent }[] = Array.isArray(request.charges) ? request.charges : [];
  const charges = given.map((c, i) => {
    if (seen.has(c.institutionId)) problems.push({ field: `charges[${i}].institutionId`, message: 'appears twice' });
    seen.add(c.institutionId);
    try {
      const event = parseDpEvent(c.event);
      // An event no accountant here can analyse is refused as input, before any lock is taken.
      rdpOfEvent(event, [2]);
      return { institutionId: c.institutionId, event };
    } catch (err) {
      if (!(err instanceof DpEventError) && !(err instanceof UnsupportedEventError)) throw err;
      problems.push({ field: `charges[${i}].event`, message: err.message });
      return { institutionId: c.institutionId, event: c.event };
    }
  });
  if (problems.length > 0) throw new InvalidInputException(problems);
  return charges;
}
