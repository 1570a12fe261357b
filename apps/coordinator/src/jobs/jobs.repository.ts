import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { TransactionScope } from '../ledger/ledger.repository';
import type { BatchEntity } from './entities/batch.entity';
import type { JobStatus, Mechanism, QuerySelection, StudentSettings } from './entities/job.entity';

export interface JobRow {
  id: string;
  taskId: string;
  mechanism: Mechanism;
  /** Every query asked, the evaluation queries (the last `evaluationQueries`) included. */
  queries: number;
  evaluationQueries: number;
  batchSize: number;
  batchDeadlineMs: number;
  minTeachers: number;
  delta: number;
  status: JobStatus;
  failure: string | null;
  nextQuery: number;
  released: number;
  answered: number;
  worstCaseEpsilon: number;
  epsilonDdSanitized: number | null;
  ddNote: string | null;
  /** null: the default student. */
  studentSettings: StudentSettings | null;
  /** null: the first pool examples are asked. */
  querySelection: QuerySelection | null;
  /** With query selection: the pool example of each pool query chosen so far. */
  poolOrder: number[] | null;
  createdBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface ParticipantRow {
  institutionId: string;
  institutionName: string;
  status: 'active' | 'exhausted';
  teachers: number | null;
}

export interface SubmissionRow {
  institutionId: string;
  agentId: string;
  signerPublicKey: string;
  nonce: string;
  envelope: unknown;
  envelopeSha256: string;
  teachers: number;
}

type Row = Record<string, unknown>;

const JOB_COLUMNS = `id, task_id, mechanism, queries, evaluation_queries, batch_size, batch_deadline_ms, min_teachers, delta, status, failure, next_query,
  released, answered, worst_case_epsilon, epsilon_dd_sanitized, dd_note, student_settings, query_selection, pool_order, created_by, created_at,
  started_at, finished_at`;

function toJob(r: Row): JobRow {
  return {
    id: r.id as string,
    taskId: r.task_id as string,
    mechanism: r.mechanism as Mechanism,
    queries: r.queries as number,
    evaluationQueries: r.evaluation_queries as number,
    batchSize: r.batch_size as number,
    batchDeadlineMs: r.batch_deadline_ms as number,
    minTeachers: r.min_teachers as number,
    delta: r.delta as number,
    status: r.status as JobStatus,
    failure: r.failure as string | null,
    nextQuery: r.next_query as number,
    released: r.released as number,
    answered: r.answered as number,
    worstCaseEpsilon: r.worst_case_epsilon as number,
    epsilonDdSanitized: r.epsilon_dd_sanitized as number | null,
    ddNote: r.dd_note as string | null,
    studentSettings: (r.student_settings as StudentSettings | null) ?? null,
    querySelection: (r.query_selection as QuerySelection | null) ?? null,
    poolOrder: (r.pool_order as number[] | null) ?? null,
    createdBy: r.created_by as string,
    createdAt: r.created_at as Date,
    startedAt: r.started_at as Date | null,
    finishedAt: r.finished_at as Date | null,
  };
}

function toBatch(r: Row): BatchEntity {
  return {
    id: r.id as string,
    jobId: r.job_id as string,
    seq: r.seq as number,
    queryIndices: r.query_indices as number[],
    status: r.status as BatchEntity['status'],
    attempt: r.attempt as number,
    openedAt: r.opened_at as Date,
    deadlineAt: r.deadline_at as Date,
    releasedAt: r.released_at as Date | null,
    answered: r.answered as number | null,
    event: r.event,
    leaseUntil: (r.lease_until as Date | null) ?? null,
    leaseOwner: (r.lease_owner as string | null) ?? null,
  };
}

type Queryable = Pick<TransactionScope, 'query'>;

/**
 * SQL expression on a job `j`: batches may be opened up to this query number. Every query, unless
 * the job selects its pool queries in rounds and the later rounds are not chosen yet: then the pool
 * queries chosen so far (evaluation queries come after the last round).
 */
const OPEN_UNTIL = `(CASE WHEN j.pool_order IS NULL OR cardinality(j.pool_order) >= j.queries - j.evaluation_queries
  THEN j.queries ELSE cardinality(j.pool_order) END)`;

/**
 * SQL condition on an open batch `b`: it is due for aggregation — its deadline passed, or no active
 * participant of its job is still to answer its current attempt.
 */
const DUE = `(b.deadline_at <= now() OR NOT EXISTS (
    SELECT 1 FROM job_participants p WHERE p.job_id = b.job_id AND p.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.batch_id = b.id AND s.attempt = b.attempt AND s.institution_id = p.institution_id)))`;

/** Jobs, their participants and batches, agents' submissions and released labels. */
@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get db(): Queryable {
    return { query: <R>(sql: string, params?: unknown[]) => this.dataSource.query<R[]>(sql, params) };
  }

  transaction<T>(work: (scope: TransactionScope) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager: EntityManager) =>
      work({ manager, query: <R>(sql: string, params?: unknown[]) => manager.query<R[]>(sql, params) }),
    );
  }

  async insertJob(
    scope: Queryable,
    job: Omit<
      JobRow,
      | 'id'
      | 'status'
      | 'failure'
      | 'nextQuery'
      | 'released'
      | 'answered'
      | 'createdAt'
      | 'startedAt'
      | 'finishedAt'
      | 'epsilonDdSanitized'
      | 'ddNote'
    >,
    participants: readonly string[],
  ): Promise<string> {
    const [{ id }] = await scope.query<{ id: string }>(
      `INSERT INTO jobs (task_id, mechanism, queries, batch_size, batch_deadline_ms, min_teachers, delta, worst_case_epsilon, created_by, student_settings,
                         evaluation_queries, query_selection, pool_order)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11, $12::jsonb, $13::int[]) RETURNING id`,
      [
        job.taskId,
        JSON.stringify(job.mechanism),
        job.queries,
        job.batchSize,
        job.batchDeadlineMs,
        job.minTeachers,
        job.delta,
        job.worstCaseEpsilon,
        job.createdBy,
        job.studentSettings === null ? null : JSON.stringify(job.studentSettings),
        job.evaluationQueries,
        job.querySelection === null ? null : JSON.stringify(job.querySelection),
        job.poolOrder,
      ],
    );
    await scope.query(`INSERT INTO job_participants (job_id, institution_id) SELECT $1, unnest($2::uuid[])`, [id, [...participants]]);
    return id;
  }

  async findJob(id: string, scope: Queryable = this.db, lock = false): Promise<JobRow | null> {
    const rows = await scope.query<Row>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [id]);
    return rows[0] ? toJob(rows[0]) : null;
  }

  async listJobs(): Promise<JobRow[]> {
    return (await this.db.query<Row>(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY created_at DESC`)).map(toJob);
  }

  async participants(jobId: string, scope: Queryable = this.db): Promise<ParticipantRow[]> {
    const rows = await scope.query<Row>(
      `SELECT p.institution_id, i.name, p.status, p.teachers FROM job_participants p JOIN institutions i ON i.id = p.institution_id
        WHERE p.job_id = $1 ORDER BY i.name`,
      [jobId],
    );
    return rows.map((r) => ({
      institutionId: r.institution_id as string,
      institutionName: r.name as string,
      status: r.status as ParticipantRow['status'],
      teachers: r.teachers as number | null,
    }));
  }

  async setJobStatus(
    scope: Queryable,
    id: string,
    from: readonly JobStatus[],
    to: JobStatus,
    failure: string | null = null,
  ): Promise<boolean> {
    const finished = to === 'completed' || to === 'failed' || to === 'cancelled';
    // UPDATE … RETURNING is wrapped in a CTE: TypeORM returns [rows, count] for a bare UPDATE.
    const rows = await scope.query<Row>(
      `WITH changed AS (
         UPDATE jobs SET status = $3, failure = coalesce($4, failure),
                started_at = CASE WHEN $3 = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
                finished_at = CASE WHEN $5 THEN now() ELSE finished_at END
          WHERE id = $1 AND status = ANY($2::text[]) RETURNING id)
       SELECT id FROM changed`,
      [id, [...from], to, failure, finished],
    );
    return rows.length === 1;
  }

  /** Opens the job's next batch (the caller holds the job row lock); null when every query is batched. */
  async openNextBatch(scope: Queryable, job: JobRow): Promise<BatchEntity | null> {
    const [current] = await scope.query<{ next_query: number; seq: number; open_until: number }>(
      `SELECT j.next_query, coalesce((SELECT max(seq) FROM batches WHERE job_id = j.id), 0)::int AS seq, ${OPEN_UNTIL} AS open_until
         FROM jobs j WHERE j.id = $1`,
      [job.id],
    );
    if (current.next_query >= current.open_until) return null;
    const end = Math.min(current.open_until, current.next_query + job.batchSize);
    const indices = Array.from({ length: end - current.next_query }, (_, i) => current.next_query + i);
    const [row] = await scope.query<Row>(
      `INSERT INTO batches (job_id, seq, query_indices, deadline_at) VALUES ($1, $2, $3::int[], now() + ($4::int * interval '1 millisecond'))
       RETURNING *`,
      [job.id, current.seq + 1, indices, job.batchDeadlineMs],
    );
    await scope.query(`UPDATE jobs SET next_query = $2 WHERE id = $1`, [job.id, end]);
    return toBatch(row);
  }

  /**
   * `openNextBatch` for several jobs in one statement (the caller holds their row locks); returns
   * the ids of the jobs that got a batch — the others have every query batched already.
   */
  async openNextBatches(scope: Queryable, jobIds: readonly string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const rows = await scope.query<{ job_id: string }>(
      `WITH due AS (
         SELECT j.id, j.next_query, least(${OPEN_UNTIL}, j.next_query + j.batch_size) AS end_query, j.batch_deadline_ms,
                coalesce((SELECT max(b.seq) FROM batches b WHERE b.job_id = j.id), 0)::int AS seq
           FROM jobs j WHERE j.id = ANY($1::uuid[]) AND j.next_query < ${OPEN_UNTIL}),
       opened AS (
         INSERT INTO batches (job_id, seq, query_indices, deadline_at)
         SELECT id, seq + 1, ARRAY(SELECT generate_series(next_query, end_query - 1))::int[],
                now() + (batch_deadline_ms * interval '1 millisecond')
           FROM due RETURNING job_id),
       advanced AS (UPDATE jobs j SET next_query = due.end_query FROM due WHERE j.id = due.id RETURNING j.id)
       SELECT job_id FROM opened WHERE job_id IN (SELECT id FROM advanced)`,
      [[...jobIds]],
    );
    return new Set(rows.map((r) => r.job_id));
  }

  async findBatch(id: string, scope: Queryable = this.db): Promise<BatchEntity | null> {
    const rows = await scope.query<Row>(`SELECT * FROM batches WHERE id = $1`, [id]);
    return rows[0] ? toBatch(rows[0]) : null;
  }

  async batchesOf(jobId: string): Promise<BatchEntity[]> {
    return (await this.db.query<Row>(`SELECT * FROM batches WHERE job_id = $1 ORDER BY seq`, [jobId])).map(toBatch);
  }

  /** The oldest open batch of a running job that the institution still has to answer. */
  async nextBatchFor(institutionId: string): Promise<BatchEntity | null> {
    const rows = await this.db.query<Row>(
      `SELECT b.* FROM batches b
         JOIN jobs j ON j.id = b.job_id AND j.status = 'running'
         JOIN job_participants p ON p.job_id = b.job_id AND p.institution_id = $1 AND p.status = 'active'
        WHERE b.status = 'open'
          AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.batch_id = b.id AND s.attempt = b.attempt AND s.institution_id = $1)
        ORDER BY b.opened_at, b.seq LIMIT 1`,
      [institutionId],
    );
    return rows[0] ? toBatch(rows[0]) : null;
  }

  /**
   * Stores a submission and, on an institution's first answer in the job, its teacher count — in
   * one transaction. Returns 'stored', or the stored submission's envelope hash when one exists.
   */
  async storeSubmission(
    batch: BatchEntity,
    submission: SubmissionRow,
  ): Promise<{ stored: true } | { stored: false; existingSha256: string } | { stored: false; closed: true }> {
    return this.transaction(async (scope) => {
      const open = await scope.query<Row>(`SELECT id FROM batches WHERE id = $1 AND status = 'open' AND attempt = $2 FOR SHARE`, [
        batch.id,
        batch.attempt,
      ]);
      if (open.length === 0) return { stored: false, closed: true };
      const inserted = await scope.query<Row>(
        `INSERT INTO submissions (batch_id, attempt, institution_id, agent_id, signer_public_key, nonce, envelope, envelope_sha256, teachers)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) ON CONFLICT ON CONSTRAINT "PK_submissions" DO NOTHING RETURNING batch_id`,
        [
          batch.id,
          batch.attempt,
          submission.institutionId,
          submission.agentId,
          submission.signerPublicKey,
          submission.nonce,
          JSON.stringify(submission.envelope),
          submission.envelopeSha256,
          submission.teachers,
        ],
      );
      if (inserted.length === 0) {
        const [existing] = await scope.query<{ envelope_sha256: string }>(
          `SELECT envelope_sha256 FROM submissions WHERE batch_id = $1 AND attempt = $2 AND institution_id = $3`,
          [batch.id, batch.attempt, submission.institutionId],
        );
        return { stored: false, existingSha256: existing.envelope_sha256 };
      }
      await scope.query(`UPDATE job_participants SET teachers = $3 WHERE job_id = $1 AND institution_id = $2 AND teachers IS NULL`, [
        batch.jobId,
        submission.institutionId,
        submission.teachers,
      ]);
      return { stored: true };
    });
  }

  /** True if this institution already delivered exactly this envelope for the batch (any attempt). */
  async hasSubmission(batchId: string, institutionId: string, envelopeSha256: string): Promise<boolean> {
    const rows = await this.db.query<Row>(
      `SELECT 1 FROM submissions WHERE batch_id = $1 AND institution_id = $2 AND envelope_sha256 = $3 LIMIT 1`,
      [batchId, institutionId, envelopeSha256],
    );
    return rows.length > 0;
  }

  async submissions(batchId: string, attempt: number): Promise<SubmissionRow[]> {
    const rows = await this.db.query<Row>(
      `SELECT institution_id, agent_id, signer_public_key, nonce, envelope, envelope_sha256, teachers FROM submissions
        WHERE batch_id = $1 AND attempt = $2 ORDER BY institution_id`,
      [batchId, attempt],
    );
    return rows.map((r) => ({
      institutionId: r.institution_id as string,
      agentId: r.agent_id as string,
      signerPublicKey: r.signer_public_key as string,
      nonce: r.nonce as string,
      envelope: r.envelope,
      envelopeSha256: r.envelope_sha256 as string,
      teachers: r.teachers as number,
    }));
  }

  /** Open batches of running jobs that are due — complete or past their deadline — and not leased. */
  async dueBatches(limit = 20): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT b.id FROM batches b JOIN jobs j ON j.id = b.job_id AND j.status = 'running'
        WHERE b.status = 'open' AND (b.lease_until IS NULL OR b.lease_until < now()) AND ${DUE}
        ORDER BY b.deadline_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Claims a batch for aggregation by `owner` (one coordinator process): a lease of `leaseMs`, taken
   * with FOR UPDATE SKIP LOCKED, and only if the batch is due — every active participant answered,
   * or its deadline passed — so an answer to an incomplete batch takes no lease. False if another
   * process holds an unexpired lease, or the batch is not open or not due. The owner renews the
   * lease while it aggregates (`renewBatchLease`); a process that dies stops renewing, and its lease
   * lapses after at most `leaseMs`.
   */
  async claimBatch(batchId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query<Row>(
      `WITH candidate AS (
         SELECT b.id FROM batches b
          WHERE b.id = $1 AND b.status = 'open' AND (b.lease_until IS NULL OR b.lease_until < now()) AND ${DUE}
            FOR UPDATE OF b SKIP LOCKED),
       leased AS (
         UPDATE batches b SET lease_until = now() + ($3::int * interval '1 millisecond'), lease_owner = $2
           FROM candidate c WHERE b.id = c.id RETURNING b.id)
       SELECT id FROM leased`,
      [batchId, owner, leaseMs],
    );
    return rows.length === 1;
  }

  /** Extends the owner's lease; false if the owner no longer holds it (it lapsed and another took it). */
  async renewBatchLease(batchId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query<Row>(
      `WITH renewed AS (
         UPDATE batches SET lease_until = now() + ($3::int * interval '1 millisecond') WHERE id = $1 AND lease_owner = $2 RETURNING id)
       SELECT id FROM renewed`,
      [batchId, owner, leaseMs],
    );
    return rows.length === 1;
  }

  async releaseBatchLease(batchId: string, owner: string): Promise<void> {
    await this.db.query(`UPDATE batches SET lease_until = NULL, lease_owner = NULL WHERE id = $1 AND lease_owner = $2`, [batchId, owner]);
  }

  async markExhausted(jobId: string, institutionIds: readonly string[]): Promise<void> {
    await this.db.query(`UPDATE job_participants SET status = 'exhausted' WHERE job_id = $1 AND institution_id = ANY($2::uuid[])`, [
      jobId,
      [...institutionIds],
    ]);
  }

  /** Starts a new attempt of a batch that could not be aggregated (its earlier answers are not used). */
  async retryBatch(batch: BatchEntity, deadlineMs: number): Promise<boolean> {
    const rows = await this.db.query<Row>(
      `WITH retried AS (
         UPDATE batches SET attempt = attempt + 1, deadline_at = now() + ($3::int * interval '1 millisecond')
          WHERE id = $1 AND attempt = $2 AND status = 'open' RETURNING id)
       SELECT id FROM retried`,
      [batch.id, batch.attempt, deadlineMs],
    );
    return rows.length === 1;
  }

  async failOpenBatches(scope: Queryable, jobId: string): Promise<void> {
    await scope.query(`UPDATE batches SET status = 'failed' WHERE job_id = $1 AND status = 'open'`, [jobId]);
  }

  /** Fails a running or paused job and its open batches (nothing more is released). */
  async failJobWithBatches(jobId: string, reason: string): Promise<void> {
    await this.transaction(async (scope) => {
      if (await this.setJobStatus(scope, jobId, ['running', 'paused'], 'failed', reason)) await this.failOpenBatches(scope, jobId);
    });
  }

  /**
   * A running job with query selection whose chosen pool queries are all released and whose next
   * round is not chosen yet (the oldest first); null if none.
   */
  async jobAwaitingSelection(): Promise<string | null> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM jobs
        WHERE status = 'running' AND pool_order IS NOT NULL AND cardinality(pool_order) < queries - evaluation_queries
          AND next_query = cardinality(pool_order) AND released = next_query
        ORDER BY started_at, id LIMIT 1`,
    );
    return rows[0]?.id ?? null;
  }

  /**
   * Appends the next round's pool examples to a job's pool order — only if it still holds
   * `chosenBefore` (another replica may have chosen first) — and, if the job is running, opens the
   * round's first batch. True if this call appended.
   */
  async extendPoolOrder(jobId: string, chosenBefore: number, examples: readonly number[]): Promise<boolean> {
    return this.transaction(async (scope) => {
      const job = await this.findJob(jobId, scope, true);
      if (!job || job.poolOrder === null || job.poolOrder.length !== chosenBefore) return false;
      await scope.query(`UPDATE jobs SET pool_order = pool_order || $2::int[] WHERE id = $1`, [jobId, [...examples]]);
      if (job.status === 'running') await this.openNextBatch(scope, { ...job, poolOrder: [...job.poolOrder, ...examples] });
      return true;
    });
  }

  /** Released batches in order, with the institutions charged for each (the ledger says who paid). */
  async releasedBatchesWithCharges(jobId: string): Promise<{ batch: BatchEntity; charged: string[] }[]> {
    const rows = await this.db.query<Row>(
      `SELECT b.*, coalesce((SELECT array_agg(e.institution_id::text ORDER BY e.institution_id) FROM ledger_entries e
                              WHERE e.kind = 'charge' AND e.job_id = b.job_id::text AND e.batch_id = 'batch-' || b.seq), '{}') AS charged
         FROM batches b WHERE b.job_id = $1 AND b.status = 'released' ORDER BY b.seq`,
      [jobId],
    );
    return rows.map((r) => ({ batch: toBatch(r), charged: r.charged as string[] }));
  }

  /** Publishes the job's sanitised data-dependent ε (or why there is none) exactly once. */
  async publishDataDependent(jobId: string, epsilon: number | null, note: string | null): Promise<boolean> {
    const rows = await this.db.query<Row>(
      `WITH published AS (
         UPDATE jobs SET epsilon_dd_sanitized = $2, dd_note = $3
          WHERE id = $1 AND status = 'completed' AND epsilon_dd_sanitized IS NULL AND dd_note IS NULL RETURNING id)
       SELECT id FROM published`,
      [jobId, epsilon, note],
    );
    return rows.length === 1;
  }

  /** Completed jobs whose data-dependent figure is not published yet. */
  async jobsAwaitingDataDependent(limit = 5): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM jobs WHERE status = 'completed' AND epsilon_dd_sanitized IS NULL AND dd_note IS NULL ORDER BY finished_at LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.id);
  }

  async releasedLabels(jobId: string): Promise<{ queryIndex: number; answered: boolean; label: number | null; soft: number[] | null }[]> {
    const rows = await this.db.query<Row>(
      `SELECT query_index, answered, label, soft FROM released_labels WHERE job_id = $1 ORDER BY query_index`,
      [jobId],
    );
    return rows.map((r) => ({
      queryIndex: r.query_index as number,
      answered: r.answered as boolean,
      label: r.label as number | null,
      soft: r.soft as number[] | null,
    }));
  }
}
