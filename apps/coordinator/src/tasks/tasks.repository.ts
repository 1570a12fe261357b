import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { PoolSplit } from './entities/pool-example.entity';
import { type InputSpec, TaskEntity } from './entities/task.entity';

export interface TaskWithCounts extends TaskEntity {
  publicExamples: number;
  holdoutExamples: number;
}

@Injectable()
export class TasksRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Null if the name is taken. */
  async insert(name: string, inputSpec: InputSpec, classes: string[]): Promise<TaskEntity | null> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO tasks (name, input_spec, classes) VALUES ($1, $2::jsonb, $3) ON CONFLICT ON CONSTRAINT "UQ_tasks_name" DO NOTHING RETURNING id`,
      [name, JSON.stringify(inputSpec), classes],
    );
    return rows[0] ? this.dataSource.getRepository(TaskEntity).findOneByOrFail({ id: rows[0].id }) : null;
  }

  async find(id: string): Promise<TaskWithCounts | null> {
    const task = await this.dataSource.getRepository(TaskEntity).findOneBy({ id });
    if (!task) return null;
    const counts = await this.dataSource.query<{ split: PoolSplit; n: string }[]>(
      `SELECT split, count(*) AS n FROM pool_examples WHERE task_id = $1 GROUP BY split`,
      [id],
    );
    const n = (split: PoolSplit): number => Number(counts.find((c) => c.split === split)?.n ?? 0);
    return Object.assign(task, { publicExamples: n('public'), holdoutExamples: n('holdout') });
  }

  async list(): Promise<TaskWithCounts[]> {
    const tasks = await this.dataSource.getRepository(TaskEntity).find({ order: { createdAt: 'ASC' } });
    return Promise.all(tasks.map(async (t) => (await this.find(t.id))!));
  }

  /** Appends examples after the split's last index, in one transaction; returns the new total. */
  async appendExamples(taskId: string, split: PoolSplit, examples: number[][], labels: (number | null)[]): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // Serialise uploads to one task so indices stay dense.
      await manager.query(`SELECT id FROM tasks WHERE id = $1 FOR UPDATE`, [taskId]);
      const [{ next }] = await manager.query<{ next: number }[]>(
        `SELECT coalesce(max(idx) + 1, 0)::int AS next FROM pool_examples WHERE task_id = $1 AND split = $2`,
        [taskId, split],
      );
      const chunk = 500;
      for (let start = 0; start < examples.length; start += chunk) {
        const slice = examples.slice(start, start + chunk);
        const width = slice[0]?.length ?? 0;
        // One flat real[] of the chunk's features, sliced per row in SQL: parsing one numeric array
        // is far cheaper than expanding JSON number by number.
        await manager.query(
          `INSERT INTO pool_examples (task_id, split, idx, features, label)
           SELECT $1, $2, $3 + g, f[g * $6 + 1:(g + 1) * $6], ($5::int[])[g + 1]
             FROM generate_series(0, $7::int - 1) AS g, (SELECT $4::real[] AS f) AS flat`,
          [taskId, split, next + start, slice.flat(), labels.slice(start, start + chunk), width, slice.length],
        );
      }
      return next + examples.length;
    });
  }

  /**
   * The examples of a job's query numbers: query q < poolQueries is public example poolExample(q)
   * (q itself unless the job selects its queries), a later one (an evaluation query) holdout example
   * q − poolQueries. Returned in the order given, each with its query number as `index`; labels are
   * never included.
   */
  async queryExamples(
    taskId: string,
    queries: readonly number[],
    poolQueries: number,
    poolExample: (q: number) => number = (q) => q,
  ): Promise<{ index: number; features: number[] }[]> {
    const rows = await this.dataSource.query<{ ord: string; features: number[] }[]>(
      `SELECT q.ord, p.features
         FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS q(split, idx, ord)
         JOIN pool_examples p ON p.task_id = $1 AND p.split = q.split AND p.idx = q.idx
        ORDER BY q.ord`,
      [
        taskId,
        queries.map((q) => (q < poolQueries ? 'public' : 'holdout')),
        queries.map((q) => (q < poolQueries ? poolExample(q) : q - poolQueries)),
      ],
    );
    return rows.map((r) => ({ index: queries[Number(r.ord) - 1], features: r.features }));
  }

  async holdout(taskId: string): Promise<{ features: number[]; label: number }[]> {
    const rows = await this.dataSource.query<{ features: number[]; label: number }[]>(
      `SELECT features, label FROM pool_examples WHERE task_id = $1 AND split = 'holdout' ORDER BY idx`,
      [taskId],
    );
    return rows;
  }
}
