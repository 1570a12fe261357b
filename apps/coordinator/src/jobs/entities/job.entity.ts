import { Check, Column, CreateDateColumn, Entity, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { TaskEntity } from '../../tasks/entities/task.entity';

export type JobStatus = 'draft' | 'running' | 'paused' | 'cancelled' | 'completed' | 'failed';

/** The aggregation mechanism of a job and its public parameters (agents see them to apply their own cap). */
export type Mechanism =
  | { kind: 'gnmax'; sigma: number }
  | { kind: 'confident_gnmax'; threshold: number; sigma1: number; sigma2: number }
  | { kind: 'gaussian_soft_labels'; sigma: number; clipNorm: number; teacherOutput?: 'probabilities' | 'votes' };

/**
 * How the job's student is trained, as stored (every field resolved). `features`: the task's
 * inputs; a PCA of the public pool with `pcaComponents` components; or, for image tasks, edge
 * energy then PCA — fitted on the public pool when the student is trained and baked into the saved
 * model. `semiSupervised`: pseudo-labels on the unlabelled pool. `temperature`: for
 * `gaussian_soft_labels` jobs, the distillation temperature T of the targets softmax(noisy sums / T)
 * (null for hard-label jobs; settings stored before it existed read as null and get the default).
 */
/**
 * How a job picks its pool queries, in `rounds` rounds: the first round asks the first pool
 * examples; each later round asks the unasked examples whose top-two probability margin, under a
 * student trained on everything released so far, is closest to `targetMargin` (neither the ones
 * the student is sure of nor the hopeless ones). Post-processing of released labels: no privacy cost.
 */
export interface QuerySelection {
  kind: 'student_margin';
  rounds: number;
  targetMargin: number;
}

export interface StudentSettings {
  features: 'input' | 'pca' | 'edges';
  pcaComponents: number | null;
  hidden: number[];
  epochs: number;
  semiSupervised: boolean;
  temperature?: number | null;
}

@Entity({ name: 'jobs' })
@Check('CHK_jobs_status', `"status" IN ('draft', 'running', 'paused', 'cancelled', 'completed', 'failed')`)
@Check('CHK_jobs_sizes', `"queries" > 0 AND "batch_size" > 0 AND "batch_deadline_ms" > 0 AND "min_teachers" > 0`)
@Check('CHK_jobs_delta', `"delta" > 0 AND "delta" < 1`)
@Check('CHK_jobs_evaluation_queries', `"evaluation_queries" >= 0 AND "evaluation_queries" < "queries"`)
@Check('CHK_jobs_progress', `"next_query" <= "queries" AND "released" <= "next_query" AND "answered" <= "released"`)
@Check('CHK_jobs_pool_order', `("query_selection" IS NULL) = ("pool_order" IS NULL)`)
export class JobEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_jobs' })
  id!: string;

  @Column({ name: 'task_id', type: 'uuid' })
  taskId!: string;

  @ManyToOne(() => TaskEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'FK_jobs_task' })
  task?: TaskEntity;

  @Column({ type: 'jsonb' })
  mechanism!: Mechanism;

  /** Every query asked, evaluation queries included. */
  @Column({ type: 'integer' }) queries!: number;
  /** The last `evaluationQueries` of `queries` are holdout examples (see EvaluationQueries migration). */
  @Column({ name: 'evaluation_queries', type: 'integer', default: 0 }) evaluationQueries!: number;
  @Column({ name: 'batch_size', type: 'integer' }) batchSize!: number;
  @Column({ name: 'batch_deadline_ms', type: 'integer' }) batchDeadlineMs!: number;
  @Column({ name: 'min_teachers', type: 'integer' }) minTeachers!: number;
  @Column({ type: 'double precision' }) delta!: number;
  @Column({ type: 'text', default: 'draft' }) status!: JobStatus;
  @Column({ type: 'text', nullable: true }) failure!: string | null;
  @Column({ name: 'next_query', type: 'integer', default: 0 }) nextQuery!: number;
  @Column({ type: 'integer', default: 0 }) released!: number;
  @Column({ type: 'integer', default: 0 }) answered!: number;
  @Column({ name: 'worst_case_epsilon', type: 'double precision' }) worstCaseEpsilon!: number;
  /** Data-dependent ε (Scalable PATE), published once at job end, sanitised by smooth sensitivity. */
  @Column({ name: 'epsilon_dd_sanitized', type: 'double precision', nullable: true }) epsilonDdSanitized!: number | null;
  /** Why no data-dependent figure was published, when none was. */
  @Column({ name: 'dd_note', type: 'text', nullable: true }) ddNote!: string | null;
  @Column({ name: 'student_settings', type: 'jsonb', nullable: true }) studentSettings!: unknown;
  /** null: the first pool examples are asked (see QuerySelection migration). */
  @Column({ name: 'query_selection', type: 'jsonb', nullable: true }) querySelection!: QuerySelection | null;
  /** The pool example of each pool query chosen so far; null without query selection. */
  @Column({ name: 'pool_order', type: 'integer', array: true, nullable: true }) poolOrder!: number[] | null;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
}
