import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { canonicalJson, GENESIS_HASH, groupDigest, hashEntry } from '@concord/crypto';
import {
  checkFits,
  type Conversion,
  conversionAdmits,
  CONVERSIONS,
  DP_EVENT_SCHEMA_VERSION,
  DPA_ORDERS,
  DpEventError,
  epsilonOfTotal,
  parseDpEvent,
  rdpOfEvent,
  UnsupportedEventError,
  type DpEvent,
} from '@concord/privacy';
import { InvalidInputException, ProblemException } from '../common/problem';
import { PrivacyBudgetEntity } from './entities/privacy-budget.entity';
import { ledgerEntryBody, type LedgerEntryFields } from './entry-body';
import { LedgerKey } from './ledger-key';
import {
  batchKey,
  type BudgetCacheUpdate,
  type ChargeSnapshot,
  type BudgetWithName,
  LedgerRepository,
  LedgerTransaction,
  type LedgerGroup,
  type NewEntry,
  type StoredEntry,
  type TransactionScope,
} from './ledger.repository';

export const ACCOUNTANT = 'rdp';
/**
 * The conversion of budgets opened from now on: every charge the coordinator makes (GNMax,
 * Confident-GNMax, soft labels, data-independent) is a composition of Gaussian mechanisms, so a
 * budget's ε is the exact analytic-Gaussian figure of its total (libs/privacy gaussian-dp.ts).
 * Budgets opened before keep the conversion they were opened with ('improved').
 */
export const CONVERSION: Conversion = 'analytic_gaussian';

/** A budget row's conversion, checked (the column is free text). */
export function conversionOf(budget: { conversion: string; institutionId: string }): Conversion {
  const c = budget.conversion as Conversion;
  if (!CONVERSIONS.includes(c)) throw new Error(`budget ${budget.institutionId} has an unknown conversion ${budget.conversion}`);
  return c;
}

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
  /** Default CONVERSION; 'improved' opens a budget as they were opened before (e.g. when importing one). */
  conversion?: Conversion;
}

/**
 * A release step that writes the releases of many charges at once. The calls of one group that name
 * the same releaser (the same object) are released by ONE `releaseAll` call — one statement for the
 * whole group instead of one per call — inside the group's transaction, after every charge of the
 * group is written. It must return one result per item, in the items' order. If it throws, the
 * group's transaction is rolled back and each call is run again alone (its own `releaseAll` with
 * one item), so one call's failure is never another's.
 */
export interface BatchReleaser<I, T> {
  releaseAll(scope: TransactionScope, items: readonly I[]): Promise<readonly T[]>;
}

/** One call's part of a batched release: what `releaser.releaseAll` is to write for it. */
export interface BatchRelease<T> {
  readonly releaser: BatchReleaser<unknown, T>;
  readonly item: unknown;
}

/** Names the release of one charge as `item` of `releaser`'s batched release. */
export function releaseWith<I, T>(releaser: BatchReleaser<I, T>, item: I): BatchRelease<T> {
  return { releaser, item };
}

/**
 * Writes the released labels; runs inside the charge transaction, only if every charge fits. A
 * function runs once per call (one or more statements each); a `BatchRelease` is written together
 * with the group's other releases of the same releaser.
 */
export type ReleaseStep<T> = ((scope: TransactionScope) => Promise<T>) | BatchRelease<T>;

export interface ChargeRequest<T> {
  jobId: string;
  batchId: string;
  /** One event per participating institution (usually the same event for all). */
  charges: readonly { institutionId: string; event: DpEvent }[];
  release: ReleaseStep<T>;
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
const MAX_GROUP = 32;

interface PendingCharge {
  jobId: string;
  batchId: string;
  charges: { institutionId: string; event: DpEvent }[];
  release: ReleaseStep<unknown>;
  resolve: (outcome: ChargeOutcome<unknown>) => void;
  reject: (error: unknown) => void;
}

type Decision = { ok: true; outcome: ChargeOutcome<unknown> } | { ok: false; error: unknown };

/** A group decided in memory: what to write, whose releases to run, and the budget rows afterwards. */
interface DecidedGroup {
  decisions: readonly Decision[];
  charged: readonly ChargedCall[];
  entries: NewEntry[];
  caches: BudgetCacheUpdate[];
  after: PrivacyBudgetEntity[];
}

/** The next group, taken from the queue, and its decision made ahead on the budget rows it expects to lock. */
interface GroupPlan {
  group: PendingCharge[];
  ids: string[];
  /** Settles when the group has been decided ahead on `basis`; undefined if it could not be. Never rejects. */
  ahead: Promise<{ basis: ReadonlyMap<string, PrivacyBudgetEntity>; decided: DecidedGroup } | undefined>;
}

/**
 * Deciding ahead gives the event loop a turn after at most this long, so that the running group's
 * replies are not held up (they are on the path every group waits on). Slices of 8 calls held a
 * reply up to ~1 ms; one call per slice was 25 % faster but cost a turn per call (BENCHMARKS.md).
 */
const PLAN_SLICE_MS = 0.25;

interface RunningBudget {
  budget: PrivacyBudgetEntity;
  rdp: number[];
  lastSeq: number;
  lastHash: string;
  epsilonSpent?: number;
  optimalOrder?: number | null;
}

const MAX_ID_LENGTH = 200;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
    const conversion = request.conversion ?? CONVERSION;
    if (!CONVERSIONS.includes(conversion))
      throw new InvalidInputException([{ field: 'conversion', message: `must be one of ${CONVERSIONS.join(', ')}` }]);
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
        conversion,
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
      conversion,
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
  /**
   * Each budget row as the running group's transaction will leave it if it commits: the basis on
   * which the next group is decided ahead of time. Cleared when a group's transaction fails.
   */
  private readonly expected = new Map<string, PrivacyBudgetEntity>();
  /** The next group, already taken from `pending`, being decided ahead while the running group commits. */
  private nextPlan: GroupPlan | undefined;

  /**
   * Starts the next group when none is running. A group counts as running until its COMMIT has been
   * sent: the next one then opens at once, its lock request queued behind the locks that commit
   * releases, so the commit's round trip and the next opening overlap. Each group still decides on
   * the rows it has locked (a plan made on rows that did not commit is decided again).
   */
  private startGroup(): void {
    if (this.groupRunning) return;
    const plan = this.nextPlan;
    this.nextPlan = undefined;
    if (!plan && this.pending.length === 0) return;
    this.groupRunning = true;
    let handedOn = false;
    const handOn = (): void => {
      if (handedOn) return;
      handedOn = true;
      this.groupRunning = false;
      this.startGroup();
    };
    // A plan still being decided does not hold its transaction back: the decision is awaited once the rows are locked.
    const run = plan ? this.runGroup(plan.group, plan, handOn) : this.runGroup(this.pending.splice(0, MAX_GROUP), undefined, handOn);
    void run.finally(handOn);
  }

  private async runGroup(group: PendingCharge[], plan?: GroupPlan, onCommitSent?: () => void): Promise<void> {
    try {
      const decided = await this.inChargeTransaction(group, plan, onCommitSent);
      decided.forEach((d, i) => (d.ok ? group[i].resolve(d.outcome) : group[i].reject(d.error)));
    } catch (err) {
      this.expected.clear();
      if (group.length === 1) {
        group[0].reject(err);
        return;
      }
      for (const charge of group) {
        try {
          const [d] = await this.inChargeTransaction([charge]);
          if (d.ok) charge.resolve(d.outcome);
          else charge.reject(d.error);
        } catch (alone) {
          this.expected.clear();
          charge.reject(alone);
        }
      }
    }
  }

  /** Runs `decideGroup` in a charge transaction over the group's budget rows and batches. */
  private inChargeTransaction(group: readonly PendingCharge[], plan?: GroupPlan, onCommitSent?: () => void): Promise<Decision[]> {
    return this.repository.chargeTransaction(
      plan?.ids ?? institutionsOf(group),
      group.map((g) => ({ jobId: g.jobId, batchId: g.batchId })),
      (tx, snapshot) => this.decideGroup(tx, snapshot, group, plan),
      onCommitSent,
    );
  }

  /**
   * Decides a group of charges inside one transaction; per-call errors are returned, not thrown.
   *
   * If the group was decided ahead (`plan`), that decision is used only when the rows now locked
   * are exactly the rows it was made on and none of the group's batches has a stored charge: the
   * decision is a function of those inputs alone, so it is then the one this transaction would
   * make. Otherwise — another replica charged, a group failed, a cap changed — it is decided anew.
   */
  private async decideGroup(
    tx: LedgerTransaction,
    { budgets, stored }: ChargeSnapshot,
    group: readonly PendingCharge[],
    plan?: GroupPlan,
  ): Promise<Decision[]> {
    const ahead = plan ? await plan.ahead : undefined;
    let decided = ahead?.decided;
    if (!decided || stored.size > 0 || !sameBudgets(budgets, ahead?.basis)) {
      const decider = new GroupDecider(budgets, stored, this.sealer, this.candidates);
      for (const call of group) decider.decide(call);
      decided = decider.finish();
    }
    for (const b of decided.after) this.expected.set(b.institutionId, b);
    // While this group's statements run, the next one is decided on what this one will leave.
    this.planNext();
    if (decided.entries.length > 0) await tx.appendEntries(decided.entries, decided.caches);
    const decisions = [...decided.decisions];
    await runReleases(tx, decided.charged, decisions);
    return decisions;
  }

  private planNext(): void {
    if (this.nextPlan || this.pending.length === 0) return;
    this.nextPlan = this.prepare(this.pending.splice(0, MAX_GROUP));
  }

  private prepare(group: PendingCharge[]): GroupPlan {
    const ids = institutionsOf(group);
    return { group, ids, ahead: this.decideAhead(group, ids) };
  }

  /** Decides `group` ahead on the expected budget rows, in slices of at most PLAN_SLICE_MS; never rejects. */
  private async decideAhead(group: readonly PendingCharge[], ids: readonly string[]): Promise<Awaited<GroupPlan['ahead']>> {
    const basis = ids.map((id) => this.expected.get(id));
    if (!basis.every((b): b is PrivacyBudgetEntity => b !== undefined)) return undefined;
    try {
      // Yield first, so that the running group's next statement is sent before this work starts.
      await yieldToEventLoop();
      const decider = new GroupDecider(basis, new Map(), this.sealer, this.candidates);
      let slice = performance.now();
      for (const call of group) {
        decider.decide(call);
        if (performance.now() - slice >= PLAN_SLICE_MS) {
          await yieldToEventLoop();
          slice = performance.now();
        }
      }
      return { decided: decider.finish(), basis: new Map(basis.map((b) => [b.institutionId, b])) };
    } catch {
      // Whatever went wrong is met again, and reported, when the group is decided in its transaction.
      return undefined;
    }
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
      const fit = checkFits(
        budget.rdp,
        budget.orders,
        { epsilon: budget.epsilonCap, delta: budget.delta },
        event,
        'data_independent',
        conversionOf(budget),
      );
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
   * the institution's δ with its budget's conversion (the institution's total is in its budget).
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
      const { epsilon, optimalOrder } = epsilonOfTotal(conversionOf(budget), budget.orders, total, budget.delta);
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

  /** The entries signed together under `digest`, sorted by hash (as the digest orders them); null if none. */
  group(digest: string): Promise<LedgerGroup | null> {
    return this.repository.group(digest);
  }

  /** A budget entry (opened, cap changed): hashed and signed alone. */
  private seal(fields: LedgerEntryFields, prevHash: string): NewEntry {
    const entry = this.sealer.hash(fields, prevHash);
    entry.signature = this.key.signEntryHash(entry.hash);
    return entry;
  }

  /**
   * Seals a group's charge entries: each hash as the entry is decided (the next entry of its chain
   * needs it), then ONE signature for the whole group, of the digest of its hashes (libs/crypto
   * `groupDigest`), carried by every entry of the group. One Ed25519 signature per transaction
   * instead of one per entry: signing was the largest CPU cost per entry (BENCHMARKS.md).
   */
  private readonly sealer: GroupSealer = {
    hash: (fields, prevHash) => ({
      ...fields,
      prevHash,
      hash: hashEntry(prevHash, ledgerEntryBody(fields)),
      groupDigest: null,
      signature: '',
    }),
    sign: (entries) => {
      const digest = groupDigest(entries.map((e) => e.hash));
      const signature = this.key.signGroupDigest(digest);
      for (const e of entries) {
        e.groupDigest = digest;
        e.signature = signature;
      }
    },
  };

  /** Candidate RDP vectors of recent (event, orders) pairs: a job charges the same event batch after batch. */
  private readonly candidates = new CandidateRdpCache();
}

/**
 * ε spent as a compliance officer reads it: the data-independent RDP total converted at the
 * budget's δ with the budget's conversion — exact (analytic Gaussian) for budgets opened since it
 * became the default, else the improved RDP conversion at the best order of the budget's list. It
 * is computed from the RDP cache each time, so the figure always matches the total it comes from.
 */
export function summarize(budget: BudgetWithName): BudgetSummary {
  const { epsilon, optimalOrder } = epsilonOfTotal(conversionOf(budget), budget.orders, budget.rdp, budget.delta);
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

/** Hashes entries one by one (in chain order), then signs a group's entries together. */
interface GroupSealer {
  hash(fields: LedgerEntryFields, prevHash: string): NewEntry;
  sign(entries: readonly NewEntry[]): void;
}

/** A candidate's RDP vector twice: frozen numbers (stored and hashed) and a Float64Array (checked). */
interface CandidateRdp {
  values: readonly number[];
  vector: Float64Array;
}

/**
 * The data-independent RDP vector of an event at a budget's orders, frozen, for the last few
 * (event, orders) pairs seen. The vector is a pure function of the two, so a cached one is exactly
 * what `rdpOfEvent` would return; being frozen, its canonical JSON text is computed once too.
 */
class CandidateRdpCache {
  private readonly byEvent = new Map<string, { orders: readonly number[]; rdp: CandidateRdp }[]>();

  static readonly MAX_EVENTS = 64;

  /** Canonical text of event objects already seen (a call's participants share one event object). */
  private readonly keys = new WeakMap<DpEvent, string>();

  /** Order-list arrays already found equal to a cached (frozen) list, mapped to that list. */
  private readonly equalOrders = new WeakMap<readonly number[], readonly number[]>();

  get(event: DpEvent, orders: readonly number[]): CandidateRdp {
    let key = this.keys.get(event);
    if (key === undefined) {
      key = canonicalJson(event);
      this.keys.set(event, key);
    }
    const known = this.byEvent.get(key);
    // An order list already matched (budget rows keep their array while decided ahead) is found by
    // identity, without comparing its ~156 numbers again.
    const equal = this.equalOrders.get(orders);
    const hit = known?.find((k) => k.orders === equal) ?? known?.find((k) => sameNumbers(k.orders, orders));
    if (hit) {
      this.equalOrders.set(orders, hit.orders);
      // Most recently used last, so the oldest is the first to go.
      this.byEvent.delete(key);
      this.byEvent.set(key, known!);
      return hit.rdp;
    }
    const vector = rdpOfEvent(event, orders);
    const rdp: CandidateRdp = { values: Object.freeze(Array.from(vector)), vector };
    const list = known ?? [];
    const frozen = Object.freeze([...orders]);
    this.equalOrders.set(orders, frozen);
    list.push({ orders: frozen, rdp });
    if (list.length > 4) list.shift();
    this.byEvent.delete(key);
    this.byEvent.set(key, list);
    if (this.byEvent.size > CandidateRdpCache.MAX_EVENTS) this.byEvent.delete(this.byEvent.keys().next().value!);
    return rdp;
  }
}

/**
 * Decides the calls of one group in arrival order over the given budget rows and stored charges:
 * each call sees the totals, sequence numbers and hashes left by the calls before it. Pure
 * computation — nothing is read or written — so a group can be decided ahead of its transaction.
 */
class GroupDecider {
  private readonly state = new Map<string, RunningBudget>();
  private readonly chargedHere = new Map<string, NewEntry[]>();
  private readonly decisions: Decision[] = [];
  private readonly charged: ChargedCall[] = [];
  private readonly entries: NewEntry[] = [];
  private readonly now = new Date();

  constructor(
    budgets: readonly PrivacyBudgetEntity[],
    private readonly stored: ReadonlyMap<string, StoredEntry[]>,
    private readonly sealer: GroupSealer,
    private readonly candidates: CandidateRdpCache,
  ) {
    for (const b of budgets) {
      this.state.set(b.institutionId, { budget: b, rdp: b.rdp, lastSeq: b.lastSeq, lastHash: b.lastHash });
    }
  }

  decide(call: PendingCharge): void {
    const { state, decisions } = this;
    const missing = call.charges.find((c) => !state.has(c.institutionId));
    if (missing) {
      decisions.push({ ok: false, error: notFound(missing.institutionId) });
      return;
    }
    const key = batchKey(call.jobId, call.batchId);
    const wanted = new Set(call.charges.map((c) => c.institutionId));
    const prior = [...(this.stored.get(key) ?? []), ...(this.chargedHere.get(key) ?? [])].filter((e) => wanted.has(e.institutionId));
    if (prior.length === wanted.size) {
      decisions.push({ ok: true, outcome: { status: 'charged', replayed: true, entries: prior as StoredEntry[] } });
      return;
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
      return;
    }
    const sorted = [...call.charges].sort((a, b) => (a.institutionId < b.institutionId ? -1 : 1));
    // Only compositions of Gaussian mechanisms can be converted exactly: a budget with that
    // conversion is never charged anything else (the coordinator's mechanisms never produce it).
    const inadmissible = sorted.find((c) => !conversionAdmits(conversionOf(state.get(c.institutionId)!.budget), c.event));
    if (inadmissible) {
      decisions.push({
        ok: false,
        error: new ProblemException(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'Event not admitted by the budget',
          `${inadmissible.event.kind} is not a composition of Gaussian mechanisms; the budget of ${inadmissible.institutionId} converts its total exactly as one`,
        ),
      });
      return;
    }
    const refusals: Refusal[] = [];
    const candidates: CandidateRdp[] = [];
    const fits = sorted.map((c) => {
      const s = state.get(c.institutionId)!;
      const candidate = this.candidates.get(c.event, s.budget.orders);
      const fit = checkFits(
        s.rdp,
        s.budget.orders,
        { epsilon: s.budget.epsilonCap, delta: s.budget.delta },
        candidate.vector,
        'data_independent',
        conversionOf(s.budget),
      );
      candidates.push(candidate);
      const spent = s.rdp === s.budget.rdp ? s.budget.epsilonSpent : (s.epsilonSpent ?? s.budget.epsilonSpent);
      if (s.budget.status !== 'active') refusals.push(refusalOf(s.budget, 'budget_frozen', spent, fit.epsilonAfter));
      else if (!fit.fits) refusals.push(refusalOf(s.budget, 'cap_exceeded', spent, fit.epsilonAfter));
      return fit;
    });
    if (refusals.length > 0) {
      decisions.push({ ok: true, outcome: { status: 'refused', refusals } });
      return;
    }
    const callEntries = sorted.map((c, i) => {
      const s = state.get(c.institutionId)!;
      const fit = fits[i];
      const entry = this.sealer.hash(
        {
          institutionId: c.institutionId,
          seq: s.lastSeq + 1,
          kind: 'charge',
          jobId: call.jobId,
          batchId: call.batchId,
          event: c.event,
          eventSchemaVersion: DP_EVENT_SCHEMA_VERSION,
          details: null,
          // The cached frozen vector: exactly fit.candidateRdp, which was computed from it.
          rdp: candidates[i].values,
          epsilonSpent: fit.epsilonAfter,
          optimalOrder: fit.optimalOrder,
          epsilonCap: s.budget.epsilonCap,
          createdAt: this.now,
        },
        s.lastHash,
      );
      // The running total is this decider's own array after the first charge: add in place.
      if (s.rdp === s.budget.rdp) s.rdp = s.rdp.slice();
      for (let k = 0; k < s.rdp.length; k++) s.rdp[k] += fit.candidateRdp[k];
      s.lastSeq = entry.seq;
      s.lastHash = entry.hash;
      s.epsilonSpent = entry.epsilonSpent;
      s.optimalOrder = entry.optimalOrder;
      return entry;
    });
    this.entries.push(...callEntries);
    this.chargedHere.set(key, [...(this.chargedHere.get(key) ?? []), ...callEntries]);
    this.charged.push({ index: decisions.length, release: call.release, entries: callEntries });
    decisions.push({ ok: true, outcome: { status: 'charged', replayed: false, entries: callEntries, released: undefined } });
  }

  finish(): DecidedGroup {
    const caches: BudgetCacheUpdate[] = [];
    const after: PrivacyBudgetEntity[] = [];
    for (const s of this.state.values()) {
      if (s.lastSeq === s.budget.lastSeq) {
        after.push(s.budget);
        continue;
      }
      const cache: BudgetCacheUpdate = {
        institutionId: s.budget.institutionId,
        rdp: s.rdp,
        epsilonSpent: s.epsilonSpent ?? s.budget.epsilonSpent,
        optimalOrder: s.optimalOrder ?? s.budget.optimalOrder,
        epsilonCap: s.budget.epsilonCap,
        lastSeq: s.lastSeq,
        lastHash: s.lastHash,
        updatedAt: this.now,
      };
      caches.push(cache);
      after.push(
        Object.assign(new PrivacyBudgetEntity(), s.budget, {
          rdp: s.rdp,
          epsilonSpent: cache.epsilonSpent,
          optimalOrder: cache.optimalOrder,
          lastSeq: cache.lastSeq,
          lastHash: cache.lastHash,
          updatedAt: cache.updatedAt,
        }),
      );
    }
    if (this.entries.length > 0) this.sealer.sign(this.entries);
    return { decisions: this.decisions, charged: this.charged, entries: this.entries, caches, after };
  }
}

/** The institutions of a group, sorted: the one order in which every transaction locks budget rows. */
function institutionsOf(group: readonly PendingCharge[]): string[] {
  return [...new Set(group.flatMap((g) => g.charges.map((c) => c.institutionId)))].sort();
}

/** Whether the locked rows are exactly `basis`, field for field (RDP vectors bit for bit). */
function sameBudgets(locked: readonly PrivacyBudgetEntity[], basis: ReadonlyMap<string, PrivacyBudgetEntity> | undefined): boolean {
  if (!basis || locked.length !== basis.size) return false;
  return locked.every((b) => {
    const e = basis.get(b.institutionId);
    return (
      e !== undefined &&
      b.lastSeq === e.lastSeq &&
      b.lastHash === e.lastHash &&
      b.status === e.status &&
      Object.is(b.epsilonCap, e.epsilonCap) &&
      Object.is(b.delta, e.delta) &&
      Object.is(b.epsilonSpent, e.epsilonSpent) &&
      Object.is(b.optimalOrder, e.optimalOrder) &&
      b.accountant === e.accountant &&
      b.conversion === e.conversion &&
      sameNumbers(b.orders, e.orders) &&
      sameNumbers(b.rdp, e.rdp)
    );
  });
}

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (!Object.is(a[k], b[k])) return false;
  return true;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface ChargedCall {
  index: number;
  release: ReleaseStep<unknown>;
  entries: NewEntry[];
}

/**
 * Release steps run last, inside the same transaction as every charge, in arrival order; the calls
 * of one batch releaser are written together, at the place of the first of them.
 */
async function runReleases(tx: LedgerTransaction, charged: readonly ChargedCall[], decisions: Decision[]): Promise<void> {
  const settle = (call: ChargedCall, released: unknown): void => {
    decisions[call.index] = { ok: true, outcome: { status: 'charged', replayed: false, entries: call.entries, released } };
  };
  const batches = new Map<BatchReleaser<unknown, unknown>, ChargedCall[]>();
  for (const call of charged) {
    if (typeof call.release === 'function') continue;
    const calls = batches.get(call.release.releaser);
    if (calls) calls.push(call);
    else batches.set(call.release.releaser, [call]);
  }
  for (const call of charged) {
    if (typeof call.release === 'function') {
      settle(call, await call.release(tx));
      continue;
    }
    const releaser = call.release.releaser;
    const calls = batches.get(releaser);
    if (!calls || calls[0] !== call) continue;
    const released = await releaser.releaseAll(
      tx,
      calls.map((c) => (c.release as BatchRelease<unknown>).item),
    );
    if (!Array.isArray(released) || released.length !== calls.length) {
      throw new Error(`a batch releaser returned ${Array.isArray(released) ? released.length : 'no'} results for ${calls.length} releases`);
    }
    calls.forEach((c, i) => settle(c, released[i]));
  }
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
    } else if (value.includes('\u0000')) {
      problems.push({ field, message: 'must not contain a NUL character' });
    }
  }
  const release: unknown = request.release;
  const batched = typeof release === 'object' && release !== null && 'releaser' in release ? (release as BatchRelease<T>) : undefined;
  if (typeof release !== 'function' && typeof batched?.releaser?.releaseAll !== 'function') {
    problems.push({ field: 'release', message: 'must be a function or a batch release (releaseWith)' });
  }
  if (!Array.isArray(request.charges) || request.charges.length === 0)
    problems.push({ field: 'charges', message: 'at least one participant' });
  const seen = new Set<string>();
  // Participants usually share one event object: parse it once (frozen), so they share the result.
  const parsed = new Map<unknown, DpEvent>();
  const given: readonly { institutionId: string; event: DpEvent }[] = Array.isArray(request.charges) ? request.charges : [];
  const charges = given.map((c, i) => {
    if (typeof c.institutionId !== 'string' || !UUID.test(c.institutionId)) {
      problems.push({ field: `charges[${i}].institutionId`, message: 'must be an institution id (a UUID)' });
    } else if (seen.has(c.institutionId)) problems.push({ field: `charges[${i}].institutionId`, message: 'appears twice' });
    seen.add(c.institutionId);
    try {
      let event = parsed.get(c.event);
      if (event === undefined) {
        event = parseDpEvent(c.event);
        // An event no accountant here can analyse is refused as input, before any lock is taken.
        rdpOfEvent(event, [2]);
        parsed.set(c.event, event);
      }
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
