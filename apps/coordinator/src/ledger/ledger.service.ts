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
   */
  async chargeAndRelease<T>(request: ChargeRequest<T>): Promise<ChargeOutcome<T>> {
    const charges = validateCharges(request);
    const ids = charges.map((c) => c.institutionId);
    return this.repository.transaction(async (tx): Promise<ChargeOutcome<T>> => {
      const budgets = await tx.lockBudgets(ids);
      if (budgets.length !== ids.length) {
        const found = new Set(budgets.map((b) => b.institutionId));
        throw notFound(ids.find((id) => !found.has(id)) ?? ids[0]);
      }
      const existing = await tx.findCharges(request.jobId, request.batchId, ids);
      if (existing.length === ids.length) return { status: 'charged', replayed: true, entries: existing };
      if (existing.length > 0) {
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Batch already charged to other participants',
          `batch ${request.batchId} of job ${request.jobId} was charged to ${existing.map((e) => e.institutionId).join(', ')} with a different participant list`,
        );
      }
      const eventOf = new Map(charges.map((c) => [c.institutionId, c.event]));
      const refusals: Refusal[] = [];
      const fits = budgets.map((budget) => {
        const fit = checkFits(
          budget.rdp,
          budget.orders,
          { epsilon: budget.epsilonCap, delta: budget.delta },
          eventOf.get(budget.institutionId)!,
        );
        if (budget.status !== 'active') refusals.push(refusalOf(budget, 'budget_frozen', fit.epsilonAfter));
        else if (!fit.fits) refusals.push(refusalOf(budget, 'cap_exceeded', fit.epsilonAfter));
        return fit;
      });
      if (refusals.length > 0) return { status: 'refused', refusals };

      const now = new Date();
      const entries: NewEntry[] = [];
      const caches: BudgetCacheUpdate[] = [];
      budgets.forEach((budget, i) => {
        const fit = fits[i];
        const total = budget.rdp.map((r, k) => r + fit.candidateRdp[k]);
        const entry = this.seal(
          {
            institutionId: budget.institutionId,
            seq: budget.lastSeq + 1,
            kind: 'charge',
            jobId: request.jobId,
            batchId: request.batchId,
            event: eventOf.get(budget.institutionId),
            eventSchemaVersion: DP_EVENT_SCHEMA_VERSION,
            details: null,
            rdp: Array.from(fit.candidateRdp),
            epsilonSpent: fit.epsilonAfter,
            optimalOrder: fit.optimalOrder,
            epsilonCap: budget.epsilonCap,
            createdAt: now,
          },
          budget.lastHash,
        );
        entries.push(entry);
        caches.push(cacheOf(entry, total));
      });
      await tx.appendEntries(entries, caches);
      const released = await request.release(tx);
      return { status: 'charged', replayed: false, entries, released };
    });
  }

  async listBudgets(): Promise<BudgetSummary[]> {
    const budgets = await this.repository.listBudgets();
    return budgets.map(summarize);
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

function refusalOf(budget: PrivacyBudgetEntity, reason: Refusal['reason'], epsilonAfter: number): Refusal {
  return { institutionId: budget.institutionId, reason, epsilonSpent: budget.epsilonSpent, epsilonAfter, epsilonCap: budget.epsilonCap };
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
