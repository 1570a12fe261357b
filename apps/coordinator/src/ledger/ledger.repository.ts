import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient, QueryResult } from 'pg';
import { escapeLiteral } from 'pg';
import { DataSource, type EntityManager, QueryFailedError, type QueryRunner } from 'typeorm';
import { LedgerEntryEntity } from './entities/ledger-entry.entity';
import { PrivacyBudgetEntity } from './entities/privacy-budget.entity';
import type { LedgerEntryFields } from './entry-body';

/** What a caller's release step may do inside the charge transaction. */
export interface TransactionScope {
  readonly manager: EntityManager;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface StoredEntry extends LedgerEntryFields {
  id: number;
  prevHash: string;
  hash: string;
  /** The digest of the group the entry was signed with (libs/crypto `groupDigest`), or null if signed alone. */
  groupDigest: string | null;
  /** Ed25519 of the hash, or of `groupDigest` when set (base64). */
  signature: string;
}

export interface NewEntry extends LedgerEntryFields {
  prevHash: string;
  hash: string;
  groupDigest: string | null;
  signature: string;
}

/** The entries signed under one group digest (see `groups`). */
export interface LedgerGroup {
  groupDigest: string;
  members: { institutionId: string; seq: number; hash: string; signature: string }[];
}

export interface BudgetCacheUpdate {
  institutionId: string;
  rdp: readonly number[];
  epsilonSpent: number;
  optimalOrder: number | null;
  epsilonCap: number;
  lastSeq: number;
  lastHash: string;
  updatedAt: Date;
}

export interface BudgetWithName extends PrivacyBudgetEntity {
  institutionName: string;
}

/** The key under which charges of one (job, batch) are grouped. */
export function batchKey(jobId: string, batchId: string): string {
  return `${jobId}\u0000${batchId}`;
}

/** SQLSTATEs after which the whole transaction is simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);
const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 12;

const LOCKED_BUDGET_COLUMNS = `institution_id, epsilon_cap, delta, accountant, conversion, array_send(orders) AS orders_bin,
  array_send(rdp) AS rdp_bin, epsilon_spent, optimal_order, status, last_seq, last_hash, updated_at`;

type BinaryBudgetRow = Omit<BudgetRow, 'orders' | 'rdp'> & { orders_bin: Buffer; rdp_bin: Buffer };

interface BudgetRow {
  institution_id: string;
  epsilon_cap: number;
  delta: number;
  accountant: string;
  conversion: string;
  orders: number[];
  rdp: number[];
  epsilon_spent: number;
  optimal_order: number | null;
  status: PrivacyBudgetEntity['status'];
  last_seq: string;
  last_hash: string;
  updated_at: Date;
}

function toBudget(row: BudgetRow): PrivacyBudgetEntity {
  return Object.assign(new PrivacyBudgetEntity(), {
    institutionId: row.institution_id,
    epsilonCap: row.epsilon_cap,
    delta: row.delta,
    accountant: row.accountant,
    conversion: row.conversion,
    orders: row.orders,
    rdp: row.rdp,
    epsilonSpent: row.epsilon_spent,
    optimalOrder: row.optimal_order,
    status: row.status,
    lastSeq: Number(row.last_seq),
    lastHash: row.last_hash,
    updatedAt: row.updated_at,
  });
}

const ENTRY_COLUMNS = `id, institution_id, seq, kind, job_id, batch_id, event, event_schema_version, details, rdp,
  epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, group_digest, signature, created_at`;

interface EntryRow {
  id: string;
  institution_id: string;
  seq: string;
  kind: LedgerEntryFields['kind'];
  job_id: string | null;
  batch_id: string | null;
  event: unknown;
  event_schema_version: number | null;
  details: unknown;
  rdp: number[];
  epsilon_spent: number;
  optimal_order: number | null;
  epsilon_cap: number;
  prev_hash: string;
  hash: string;
  group_digest: string | null;
  signature: string;
  created_at: Date;
}

function toStoredEntry(row: EntryRow): StoredEntry {
  return {
    id: Number(row.id),
    institutionId: row.institution_id,
    seq: Number(row.seq),
    kind: row.kind,
    jobId: row.job_id,
    batchId: row.batch_id,
    event: row.event,
    eventSchemaVersion: row.event_schema_version,
    details: row.details,
    rdp: row.rdp,
    epsilonSpent: row.epsilon_spent,
    optimalOrder: row.optimal_order,
    epsilonCap: row.epsilon_cap,
    prevHash: row.prev_hash,
    hash: row.hash,
    groupDigest: row.group_digest,
    signature: row.signature,
    createdAt: row.created_at,
  };
}

/**
 * Stored charges of the (job, batch) pairs given as two text[] expressions. One index probe per
 * pair (LATERAL over the partial unique index on (job_id, batch_id, institution_id)), so the cost
 * does not grow with the ledger. `OFFSET 0` keeps the subquery from being pulled up into a join:
 * without it, statistics taken while the ledger was small let the planner hash-join the pairs
 * against a scan of every charge ever made (seen in bench:ledger: 2,343 rows read per group).
 */
export function chargesForBatchesSql(jobIds: string, batchIds: string): string {
  return `SELECT e.* FROM unnest(${jobIds}, ${batchIds}) AS b(job_id, batch_id)
      CROSS JOIN LATERAL (
        SELECT ${ENTRY_COLUMNS} FROM ledger_entries
         WHERE kind = 'charge' AND job_id = b.job_id AND batch_id = b.batch_id
        OFFSET 0) AS e
    ORDER BY e.institution_id`;
}

function groupByBatch(rows: readonly EntryRow[]): Map<string, StoredEntry[]> {
  const byBatch = new Map<string, StoredEntry[]>();
  for (const row of rows) {
    const entry = toStoredEntry(row);
    const key = batchKey(entry.jobId ?? '', entry.batchId ?? '');
    const list = byBatch.get(key);
    if (list) list.push(entry);
    else byBatch.set(key, [entry]);
  }
  return byBatch;
}

const LOCK_BUDGETS_SQL = (ids: string): string => `SELECT ${LOCKED_BUDGET_COLUMNS} FROM privacy_budgets
        WHERE institution_id = ANY(${ids})
        ORDER BY institution_id
          FOR UPDATE`;

function toLockedBudget(row: BinaryBudgetRow): PrivacyBudgetEntity {
  return toBudget({ ...row, orders: unpackVector(row.orders_bin, 'orders'), rdp: unpackVector(row.rdp_bin, 'rdp') });
}

/** A text[] literal of `values`, each quoted with the driver's `escapeLiteral` (no NUL allowed). */
function textArrayLiteral(values: readonly string[]): string {
  for (const v of values) if (v.includes('\u0000')) throw new RangeError('a NUL character cannot be sent to Postgres');
  return values.length === 0 ? `'{}'::text[]` : `ARRAY[${values.map((v) => escapeLiteral(v)).join(',')}]::text[]`;
}

/** What a charge transaction starts from: its budget rows, locked, and the stored charges of its batches. */
export interface ChargeSnapshot {
  budgets: PrivacyBudgetEntity[];
  stored: Map<string, StoredEntry[]>;
}

/** The ledger's transaction: budget rows locked by this transaction, entries appended to it. */
export class LedgerTransaction implements TransactionScope {
  constructor(readonly manager: EntityManager) {}

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    return this.manager.query<R[]>(sql, params);
  }

  /**
   * Locks the budget rows of `institutionIds` in ascending id order — the one fixed order every
   * transaction uses, so two charges over overlapping institutions cannot deadlock.
   */
  async lockBudgets(institutionIds: readonly string[]): Promise<PrivacyBudgetEntity[]> {
    // Raw SQL rather than the query builder: this runs once per group while every other charge
    // waits, and the builder's entity hydration cost more than the statement itself.
    // The two vectors come back in Postgres' binary array format (array_send), read bit for bit:
    // parsing 2 × 156 decimal numbers per row as text cost more than the rest of the statement.
    const rows = await this.query<BinaryBudgetRow>(LOCK_BUDGETS_SQL('$1::uuid[]'), [[...institutionIds]]);
    return rows.map(toLockedBudget);
  }

  async insertBudget(budget: Omit<PrivacyBudgetEntity, 'institution' | 'updatedAt'> & { updatedAt: Date }): Promise<void> {
    await this.manager.insert(PrivacyBudgetEntity, budget);
  }

  /**
   * Appends entries and updates the budgets' caches in ONE statement (a data-modifying CTE), however
   * many entries and institutions: one round trip while the budget rows are locked. Each column
   * travels as one array parameter (unnest), so the statement's text and parameter count do not
   * grow with the group. The RDP vectors travel as one binary float8[] holding all of them end to
   * end, each row taking its slice (see `packVectors`).
   */
  async appendEntries(entries: readonly NewEntry[], caches: readonly BudgetCacheUpdate[]): Promise<void> {
    const entryRdp = packVectors(entries.map((e) => e.rdp));
    const insert = `INSERT INTO ledger_entries (institution_id, seq, kind, job_id, batch_id, event, event_schema_version, details, rdp,
         epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, group_digest, signature, created_at)
       SELECT institution_id, seq, kind, job_id, batch_id, event::jsonb, event_schema_version, details::jsonb, ($9::float8[])[rdp_from:rdp_to],
              epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, group_digest, signature, created_at
         FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[],
                     $10::int[], $11::int[], $12::float8[], $13::float8[], $14::float8[], $15::text[], $16::text[], $17::text[],
                     $18::timestamptz[], $19::text[])
              WITH ORDINALITY
           AS e(institution_id, seq, kind, job_id, batch_id, event, event_schema_version, details, rdp_from, rdp_to,
                epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, signature, created_at, group_digest, ord)
        ORDER BY ord`;
    const params: unknown[] = [
      entries.map((e) => e.institutionId),
      entries.map((e) => e.seq),
      entries.map((e) => e.kind),
      entries.map((e) => e.jobId),
      entries.map((e) => e.batchId),
      entries.map((e) => (e.event === null || e.event === undefined ? null : JSON.stringify(e.event))),
      entries.map((e) => e.eventSchemaVersion),
      entries.map((e) => (e.details === null || e.details === undefined ? null : JSON.stringify(e.details))),
      entryRdp.packed,
      entryRdp.from,
      entryRdp.to,
      entries.map((e) => e.epsilonSpent),
      entries.map((e) => e.optimalOrder),
      entries.map((e) => e.epsilonCap),
      entries.map((e) => e.prevHash),
      entries.map((e) => e.hash),
      entries.map((e) => e.signature),
      entries.map((e) => e.createdAt.toISOString()),
      // A group's digest is the same text on each of its entries.
      entries.map((e) => e.groupDigest),
    ];
    if (caches.length === 0) {
      await this.query(insert, params);
      return;
    }
    const cacheRdp = packVectors(caches.map((c) => c.rdp));
    const n = params.length;
    params.push(
      caches.map((c) => c.institutionId),
      cacheRdp.packed,
      cacheRdp.from,
      cacheRdp.to,
      caches.map((c) => c.epsilonSpent),
      caches.map((c) => c.optimalOrder),
      caches.map((c) => c.epsilonCap),
      caches.map((c) => c.lastSeq),
      caches.map((c) => c.lastHash),
      caches.map((c) => c.updatedAt.toISOString()),
    );
    await this.query(
      `WITH appended AS (${insert} RETURNING 1)
       UPDATE privacy_budgets AS b
          SET rdp = ($${n + 2}::float8[])[v.rdp_from:v.rdp_to], epsilon_spent = v.epsilon_spent, optimal_order = v.optimal_order,
              epsilon_cap = v.epsilon_cap, last_seq = v.last_seq, last_hash = v.last_hash, updated_at = v.updated_at
         FROM unnest($${n + 1}::uuid[], $${n + 3}::int[], $${n + 4}::int[], $${n + 5}::float8[], $${n + 6}::float8[],
                     $${n + 7}::float8[], $${n + 8}::bigint[], $${n + 9}::text[], $${n + 10}::timestamptz[])
           AS v(institution_id, rdp_from, rdp_to, epsilon_spent, optimal_order, epsilon_cap, last_seq, last_hash, updated_at)
        WHERE b.institution_id = v.institution_id`,
      params,
    );
  }
}

/**
 * Runs `once` again, after a short randomised back-off, when it fails with a serialisation failure,
 * a deadlock or a unique-key race (whether TypeORM wrapped the driver's error or not), at most
 * MAX_ATTEMPTS times in all; any other failure is thrown at once.
 */
async function retried<T>(once: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await once();
    } catch (err) {
      const code =
        err instanceof QueryFailedError ? (err.driverError as { code?: unknown }).code : (err as { code?: unknown } | null)?.code;
      const retryable = typeof code === 'string' && (RETRYABLE.has(code) || code === UNIQUE_VIOLATION);
      if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200, 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
}

async function releaseRunner(runner: QueryRunner): Promise<void> {
  if (!runner.isReleased) await runner.release();
}

/** Postgres' type id of float8, which a binary float8[] names as its element type. */
const FLOAT8_OID = 701;

/**
 * Several vectors of finite numbers end to end as ONE float8[] parameter in Postgres' binary array
 * format (array_recv: ndim, has-nulls flag, element type, length, lower bound, then each element as
 * a 4-byte length and a big-endian IEEE 754 double), with each vector's 1-based [from, to] slice.
 * Binary doubles are stored bit for bit, so each stored vector is exactly the one that was hashed —
 * and neither side formats or parses 156 decimal numbers per vector, which the driver's text arrays
 * cost while every other charge waits for the budget locks.
 */
export function packVectors(vectors: readonly (readonly number[])[]): { packed: Buffer; from: number[]; to: number[] } {
  // The same array given twice (a job charges one cached vector to every participant) is sent
  // once; both rows take the same slice.
  const distinct = [...new Set(vectors)];
  let total = 0;
  for (const v of distinct) total += v.length;
  const packed = Buffer.allocUnsafe(20 + 12 * total);
  packed.writeInt32BE(1, 0);
  packed.writeInt32BE(0, 4);
  packed.writeInt32BE(FLOAT8_OID, 8);
  packed.writeInt32BE(total, 12);
  packed.writeInt32BE(1, 16);
  const from: number[] = [];
  const to: number[] = [];
  let offset = 20;
  let index = 0;
  const slices = new Map<readonly number[], [number, number]>();
  for (const v of distinct) {
    const first = index + 1;
    for (let k = 0; k < v.length; k++) {
      const x = v[k];
      if (!Number.isFinite(x)) throw new RangeError(`rdp[${k}] must be a finite number, got ${x}`);
      packed.writeInt32BE(8, offset);
      packed.writeDoubleBE(x, offset + 4);
      offset += 12;
    }
    index += v.length;
    slices.set(v, [first, index]);
  }
  for (const v of vectors) {
    const [f, t] = slices.get(v)!;
    from.push(f);
    to.push(t);
  }
  return { packed, from, to };
}

/**
 * A one-dimensional float8[] in Postgres' binary array format (what `array_send` returns) as
 * numbers, bit for bit. Anything else — another element type, more dimensions, a NULL element —
 * is refused: a budget's vectors are never any of those.
 */
export function unpackVector(bytes: Buffer, name: string): number[] {
  const fail = (why: string): never => {
    throw new Error(`budget ${name}: ${why} in its binary array`);
  };
  if (bytes.length < 12) fail('truncated header');
  const ndim = bytes.readInt32BE(0);
  if (bytes.readInt32BE(4) !== 0) fail('NULL elements');
  if (bytes.readInt32BE(8) !== FLOAT8_OID) fail('element type is not float8');
  if (ndim === 0) return [];
  if (ndim !== 1 || bytes.length < 20) fail('not one-dimensional');
  const length = bytes.readInt32BE(12);
  if (bytes.length !== 20 + 12 * length) fail('wrong length');
  const out = new Array<number>(length);
  for (let k = 0, offset = 20; k < length; k++, offset += 12) {
    if (bytes.readInt32BE(offset) !== 8) fail(`element ${k} is not 8 bytes`);
    out[k] = bytes.readDoubleBE(offset + 4);
  }
  return out;
}

@Injectable()
export class LedgerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Runs `work` in one transaction and commits it, running it again from the start after a
   * serialisation failure, a deadlock or a unique-key race (a concurrent identical charge): the work
   * re-reads everything under its locks, so a retry sees the winner's result. Correctness rests on
   * the row locks, not on the isolation level: READ COMMITTED (Postgres' default, and what is used
   * here) or anything stricter is safe; stricter levels only add retried serialisation failures.
   */
  transaction<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    return retried(() => this.dataSource.transaction((manager) => work(new LedgerTransaction(manager))));
  }

  /**
   * A charge transaction, with the fewest round trips while budget rows are locked: ONE message
   * opens the transaction, locks the budget rows of `institutionIds` (ascending, as every
   * transaction does) and reads the stored charges of `batches` — three statements, each with its
   * own snapshot, so the read sees every charge committed before the locks were granted. Then
   * `work` runs on the same connection, and COMMIT. Retried like `transaction`.
   *
   * The first message uses the simple query protocol (it carries several statements), so its
   * values are inlined as literals quoted by the driver's `escapeLiteral`; ids holding a NUL are
   * refused before anything is sent.
   */
  async chargeTransaction<T>(
    institutionIds: readonly string[],
    batches: readonly { jobId: string; batchId: string }[],
    work: (tx: LedgerTransaction, snapshot: ChargeSnapshot) => Promise<T>,
    /**
     * Called once COMMIT has been sent (not yet acknowledged). Whatever the caller starts then
     * queues behind this transaction's row locks, which the commit releases (or the failed commit's
     * rollback does). Not called when the transaction is rolled back before COMMIT is sent.
     */
    onCommitSent?: () => void,
  ): Promise<T> {
    const ids = `${textArrayLiteral(institutionIds)}::uuid[]`;
    // Each (job, batch) once: the join returns a batch's charges once per time it is named.
    const distinct = [...new Map(batches.map((b) => [batchKey(b.jobId, b.batchId), b])).values()];
    const jobIds = textArrayLiteral(distinct.map((b) => b.jobId));
    const batchIds = textArrayLiteral(distinct.map((b) => b.batchId));
    const opening = `BEGIN; ${LOCK_BUDGETS_SQL(ids)}; ${chargesForBatchesSql(jobIds, batchIds)}`;
    return retried(async () => {
      const runner = this.dataSource.createQueryRunner();
      let client: PoolClient | undefined;
      try {
        client = (await runner.connect()) as PoolClient;
        const results = (await client.query(opening)) as unknown as QueryResult[];
        const snapshot: ChargeSnapshot = {
          budgets: (results[1].rows as BinaryBudgetRow[]).map(toLockedBudget),
          stored: groupByBatch(results[2].rows as EntryRow[]),
        };
        const out = await work(new LedgerTransaction(runner.manager), snapshot);
        const commit = client.query('COMMIT');
        onCommitSent?.();
        await commit;
        return out;
      } catch (err) {
        // Whatever state the session is in (no transaction, an open one, a failed one), end it.
        if (client) await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        await releaseRunner(runner);
      }
    });
  }

  async findBudget(institutionId: string): Promise<BudgetWithName | null> {
    const rows = await this.listBudgets([institutionId]);
    return rows[0] ?? null;
  }

  async listBudgets(institutionIds?: readonly string[]): Promise<BudgetWithName[]> {
    const qb = this.dataSource
      .createQueryBuilder(PrivacyBudgetEntity, 'b')
      .innerJoin('institutions', 'i', 'i.id = b.institution_id')
      .addSelect('i.name', 'institution_name')
      .orderBy('i.name', 'ASC');
    if (institutionIds) qb.where('b.institution_id = ANY(:ids)', { ids: [...institutionIds] });
    const { entities, raw } = await qb.getRawAndEntities<{ institution_name: string; b_institution_id: string }>();
    const names = new Map(raw.map((r) => [r.b_institution_id, r.institution_name]));
    return entities.map((b) => Object.assign(b, { institutionName: names.get(b.institutionId) ?? '' }));
  }

  async countEntries(institutionId: string): Promise<number> {
    return this.dataSource.getRepository(LedgerEntryEntity).countBy({ institutionId });
  }

  /** Entries of one institution in chain order, `limit` of them after `afterSeq`. */
  async listEntries(institutionId: string, afterSeq: number, limit: number): Promise<StoredEntry[]> {
    const rows = await this.dataSource.query<EntryRow[]>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE institution_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [institutionId, afterSeq, limit],
    );
    return rows.map(toStoredEntry);
  }

  /** Every entry of one institution as stored, in physical seq order (for verification). */
  async allEntries(institutionId: string): Promise<StoredEntry[]> {
    const rows = await this.dataSource.query<EntryRow[]>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE institution_id = $1 ORDER BY seq, id`,
      [institutionId],
    );
    return rows.map(toStoredEntry);
  }

  async entriesForJob(jobId: string): Promise<StoredEntry[]> {
    const rows = await this.dataSource.query<EntryRow[]>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE kind = 'charge' AND job_id = $1 ORDER BY institution_id, seq`,
      [jobId],
    );
    return rows.map(toStoredEntry);
  }

  /**
   * Signing groups in digest order, `limit` of them after `afterDigest` (null: from the first),
   * each with every entry carrying its digest — for verification a page at a time.
   */
  groups(afterDigest: string | null, limit: number): Promise<LedgerGroup[]> {
    // '' sorts before every digest; compared as character(64), the partial index serves each page.
    return this.selectGroups('group_digest > $1::character(64)', [afterDigest ?? ''], limit);
  }

  /** One signing group, its entries sorted by hash (as the digest orders them); null if no entry carries `digest`. */
  async group(digest: string): Promise<LedgerGroup | null> {
    const [group] = await this.selectGroups('group_digest = $1::character(64)', [digest], 1);
    return group ?? null;
  }

  private async selectGroups(condition: string, params: unknown[], limit: number): Promise<LedgerGroup[]> {
    const rows = await this.dataSource.query<
      { group_digest: string; institution_ids: string[]; seqs: string[]; hashes: string[]; signatures: string[] }[]
    >(
      `SELECT group_digest, array_agg(institution_id::text ORDER BY hash) AS institution_ids, array_agg(seq::text ORDER BY hash) AS seqs,
              array_agg(hash::text ORDER BY hash) AS hashes, array_agg(signature ORDER BY hash) AS signatures
         FROM ledger_entries
        WHERE group_digest IS NOT NULL AND ${condition}
        GROUP BY group_digest
        ORDER BY group_digest
        LIMIT $${params.length + 1}`,
      [...params, limit],
    );
    return rows.map((r) => ({
      groupDigest: r.group_digest,
      members: r.hashes.map((hash, i) => ({
        institutionId: r.institution_ids[i],
        seq: Number(r.seqs[i]),
        hash,
        signature: r.signatures[i],
      })),
    }));
  }

  /** Institutions that have ledger entries but no budget row (a deleted budget is a problem too). */
  async institutionsWithEntries(): Promise<string[]> {
    const rows = await this.dataSource.query<{ institution_id: string }[]>(`SELECT DISTINCT institution_id FROM ledger_entries`);
    return rows.map((r) => r.institution_id);
  }
}
