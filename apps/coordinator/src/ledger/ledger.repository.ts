import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, QueryFailedError } from 'typeorm';
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
  signature: string;
}

export interface NewEntry extends LedgerEntryFields {
  prevHash: string;
  hash: string;
  signature: string;
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

const ENTRY_COLUMNS = `id, institution_id, seq, kind, job_id, batch_id, event, event_schema_version, details, rdp,
  epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, signature, created_at`;

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
    signature: row.signature,
    createdAt: row.created_at,
  };
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
    return this.manager
      .createQueryBuilder(PrivacyBudgetEntity, 'b')
      .where('b.institution_id = ANY(:ids)', { ids: [...institutionIds] })
      .orderBy('b.institution_id', 'ASC')
      .setLock('pessimistic_write')
      .getMany();
  }

  /** Stored charges of several (job, batch) pairs, grouped by pair. */
  async findChargesForBatches(batches: readonly { jobId: string; batchId: string }[]): Promise<Map<string, StoredEntry[]>> {
    const rows = await this.query<EntryRow>(
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries
        WHERE kind = 'charge' AND (job_id, batch_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
        ORDER BY institution_id`,
      [batches.map((b) => b.jobId), batches.map((b) => b.batchId)],
    );
    const byBatch = new Map<string, StoredEntry[]>();
    for (const row of rows) {
      const entry = toStoredEntry(row);
      const key = batchKey(entry.jobId ?? '', entry.batchId ?? '');
      byBatch.set(key, [...(byBatch.get(key) ?? []), entry]);
    }
    return byBatch;
  }

  async insertBudget(budget: Omit<PrivacyBudgetEntity, 'institution' | 'updatedAt'> & { updatedAt: Date }): Promise<void> {
    await this.manager.insert(PrivacyBudgetEntity, budget);
  }

  /**
   * Appends entries and updates the budgets' caches in ONE statement (a data-modifying CTE), however
   * many institutions: one round trip while the budget rows are locked.
   */
  async appendEntries(entries: readonly NewEntry[], caches: readonly BudgetCacheUpdate[]): Promise<void> {
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    const tuples = entries.map(
      (e) =>
        `(${p(e.institutionId)}::uuid, ${p(e.seq)}::bigint, ${p(e.kind)}, ${p(e.jobId)}, ${p(e.batchId)}, ` +
        `${p(e.event === null || e.event === undefined ? null : JSON.stringify(e.event))}::jsonb, ${p(e.eventSchemaVersion)}::int, ` +
        `${p(e.details === null || e.details === undefined ? null : JSON.stringify(e.details))}::jsonb, ${p(e.rdp)}::float8[], ` +
        `${p(e.epsilonSpent)}::float8, ${p(e.optimalOrder)}::float8, ${p(e.epsilonCap)}::float8, ${p(e.prevHash)}, ${p(e.hash)}, ` +
        `${p(e.signature)}, ${p(e.createdAt)}::timestamptz)`,
    );
    const insert = `INSERT INTO ledger_entries (institution_id, seq, kind, job_id, batch_id, event, event_schema_version, details, rdp,
         epsilon_spent, optimal_order, epsilon_cap, prev_hash, hash, signature, created_at)
       VALUES ${tuples.join(', ')}`;
    if (caches.length === 0) {
      await this.query(insert, params);
      return;
    }
    const cacheTuples = caches.map(
      (c) =>
        `(${p(c.institutionId)}::uuid, ${p(c.rdp)}::float8[], ${p(c.epsilonSpent)}::float8, ${p(c.optimalOrder)}::float8, ` +
        `${p(c.epsilonCap)}::float8, ${p(c.lastSeq)}::bigint, ${p(c.lastHash)}, ${p(c.updatedAt)}::timestamptz)`,
    );
    await this.query(
      `WITH appended AS (${insert} RETURNING 1)
       UPDATE privacy_budgets AS b
          SET rdp = v.rdp, epsilon_spent = v.epsilon_spent, optimal_order = v.optimal_order, epsilon_cap = v.epsilon_cap,
              last_seq = v.last_seq, last_hash = v.last_hash, updated_at = v.updated_at
         FROM (VALUES ${cacheTuples.join(', ')})
           AS v(institution_id, rdp, epsilon_spent, optimal_order, epsilon_cap, last_seq, last_hash, updated_at)
        WHERE b.institution_id = v.institution_id`,
      params,
    );
  }
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
  async transaction<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dataSource.transaction((manager) => work(new LedgerTransaction(manager)));
      } catch (err) {
        const code = err instanceof QueryFailedError ? (err.driverError as { code?: string }).code : undefined;
        const retryable = code !== undefined && (RETRYABLE.has(code) || code === UNIQUE_VIOLATION);
        if (!retryable || attempt >= MAX_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, Math.min(200, 2 ** attempt) * (0.5 + Math.random() / 2)));
      }
    }
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
      `SELECT ${ENTRY_COLUMNS} FROM ledger_entries WHERE job_id = $1 ORDER BY institution_id, seq`,
      [jobId],
    );
    return rows.map(toStoredEntry);
  }

  /** Institutions that have ledger entries but no budget row (a deleted budget is a problem too). */
  async institutionsWithEntries(): Promise<string[]> {
    const rows = await this.dataSource.query<{ institution_id: string }[]>(`SELECT DISTINCT institution_id FROM ledger_entries`);
    return rows.map((r) => r.institution_id);
  }
}
