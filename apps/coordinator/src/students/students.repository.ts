import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

export interface StudentRow {
  jobId: string;
  status: 'queued' | 'training' | 'ready' | 'failed';
  attempts: number;
  backend: string | null;
  parameters: number | null;
  metrics: unknown;
  error: string | null;
  finishedAt: Date | null;
}

/** A claim older than this is considered abandoned (its coordinator died) and is taken over. */
const STALE_CLAIM_MINUTES = 30;
const MAX_ATTEMPTS = 3;

@Injectable()
export class StudentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Claims the oldest queued student (or one whose claim went stale) with FOR UPDATE SKIP LOCKED,
   * so that several coordinator replicas never train the same student at once.
   */
  async claimNext(): Promise<string | null> {
    const rows = await this.dataSource.query<{ job_id: string }[]>(
      `WITH next AS (
         SELECT job_id FROM students
          WHERE attempts < $1 AND (status = 'queued' OR (status = 'training' AND claimed_at < now() - ($2::int * interval '1 minute')))
          ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1),
       claimed AS (
         UPDATE students s SET status = 'training', claimed_at = now(), attempts = s.attempts + 1
           FROM next WHERE s.job_id = next.job_id RETURNING s.job_id)
       SELECT job_id FROM claimed`,
      [MAX_ATTEMPTS, STALE_CLAIM_MINUTES],
    );
    return rows[0]?.job_id ?? null;
  }

  async complete(
    jobId: string,
    result: { backend: string; parameters: number; metrics: unknown; modelJson: unknown; weights: Buffer },
  ): Promise<void> {
    await this.dataSource.query(
      `UPDATE students SET status = 'ready', finished_at = now(), backend = $2, parameters = $3, metrics = $4::jsonb, model_json = $5::jsonb, weights = $6, error = NULL
        WHERE job_id = $1`,
      [jobId, result.backend, result.parameters, JSON.stringify(result.metrics), JSON.stringify(result.modelJson), result.weights],
    );
  }

  async fail(jobId: string, error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE students SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END, error = $2, finished_at = now() WHERE job_id = $1`,
      [jobId, error.slice(0, 2000), MAX_ATTEMPTS],
    );
  }

  async find(jobId: string): Promise<StudentRow | null> {
    const rows = await this.dataSource.query<Record<string, unknown>[]>(
      `SELECT job_id, status, attempts, backend, parameters, metrics, error, finished_at FROM students WHERE job_id = $1`,
      [jobId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      jobId: r.job_id as string,
      status: r.status as StudentRow['status'],
      attempts: r.attempts as number,
      backend: r.backend as string | null,
      parameters: r.parameters as number | null,
      metrics: r.metrics,
      error: r.error as string | null,
      finishedAt: r.finished_at as Date | null,
    };
  }

  async artifacts(jobId: string): Promise<{ modelJson: unknown; weights: Buffer } | null> {
    const rows = await this.dataSource.query<{ model_json: unknown; weights: Buffer }[]>(
      `SELECT model_json, weights FROM students WHERE job_id = $1 AND status = 'ready'`,
      [jobId],
    );
    return rows[0] ? { modelJson: rows[0].model_json, weights: rows[0].weights } : null;
  }

  /** The task's whole public pool (features as stored) and its holdout. */
  async poolAndHoldout(
    taskId: string,
  ): Promise<{ pool: { idx: number; features: number[] }[]; holdout: { idx: number; features: number[]; label: number }[] }> {
    const pool = await this.dataSource.query<{ idx: number; features: number[] }[]>(
      `SELECT idx, features FROM pool_examples WHERE task_id = $1 AND split = 'public' ORDER BY idx`,
      [taskId],
    );
    const holdout = await this.dataSource.query<{ idx: number; features: number[]; label: number }[]>(
      `SELECT idx, features, label FROM pool_examples WHERE task_id = $1 AND split = 'holdout' ORDER BY idx`,
      [taskId],
    );
    return { pool, holdout };
  }
}
