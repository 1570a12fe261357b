import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tasks (what is labelled), their public pools and holdouts, distillation jobs, their batches, the
 * agents' sealed submissions (kept for audit; votes stay encrypted at rest) and released labels.
 */
export class TasksAndJobs1764470400000 implements MigrationInterface {
  name = 'TasksAndJobs1764470400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "tasks" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "input_spec" jsonb NOT NULL,
        "classes" text array NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_tasks" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_tasks_name" UNIQUE ("name"),
        CONSTRAINT "CHK_tasks_classes" CHECK (cardinality("classes") >= 2)
      )`);
    await queryRunner.query(`
      CREATE TABLE "pool_examples" (
        "task_id" uuid NOT NULL,
        "split" text NOT NULL,
        "idx" integer NOT NULL,
        "features" real array NOT NULL,
        "label" integer,
        CONSTRAINT "PK_pool_examples" PRIMARY KEY ("task_id", "split", "idx"),
        CONSTRAINT "FK_pool_examples_task" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_pool_examples_split" CHECK ("split" IN ('public', 'holdout')),
        CONSTRAINT "CHK_pool_examples_label" CHECK ("split" = 'public' AND "label" IS NULL OR "split" = 'holdout' AND "label" IS NOT NULL)
      )`);
    await queryRunner.query(`
      CREATE TABLE "jobs" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "task_id" uuid NOT NULL,
        "mechanism" jsonb NOT NULL,
        "queries" integer NOT NULL,
        "batch_size" integer NOT NULL,
        "batch_deadline_ms" integer NOT NULL,
        "min_teachers" integer NOT NULL,
        "delta" double precision NOT NULL,
        "status" text NOT NULL DEFAULT 'draft',
        "failure" text,
        "next_query" integer NOT NULL DEFAULT 0,
        "released" integer NOT NULL DEFAULT 0,
        "answered" integer NOT NULL DEFAULT 0,
        "worst_case_epsilon" double precision NOT NULL,
        "epsilon_dd_sanitized" double precision,
        "dd_note" text,
        "created_by" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "started_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_jobs" PRIMARY KEY ("id"),
        CONSTRAINT "FK_jobs_task" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_jobs_status" CHECK ("status" IN ('draft', 'running', 'paused', 'cancelled', 'completed', 'failed')),
        CONSTRAINT "CHK_jobs_sizes" CHECK ("queries" > 0 AND "batch_size" > 0 AND "batch_deadline_ms" > 0 AND "min_teachers" > 0),
        CONSTRAINT "CHK_jobs_delta" CHECK ("delta" > 0 AND "delta" < 1),
        CONSTRAINT "CHK_jobs_progress" CHECK ("next_query" <= "queries" AND "released" <= "next_query" AND "answered" <= "released")
      )`);
    await queryRunner.query(`
      CREATE TABLE "job_participants" (
        "job_id" uuid NOT NULL,
        "institution_id" uuid NOT NULL,
        "status" text NOT NULL DEFAULT 'active',
        "teachers" integer,
        CONSTRAINT "PK_job_participants" PRIMARY KEY ("job_id", "institution_id"),
        CONSTRAINT "FK_job_participants_job" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE,
        CONSTRAINT "FK_job_participants_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_job_participants_status" CHECK ("status" IN ('active', 'exhausted')),
        CONSTRAINT "CHK_job_participants_teachers" CHECK ("teachers" IS NULL OR "teachers" > 0)
      )`);
    await queryRunner.query(`
      CREATE TABLE "batches" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "job_id" uuid NOT NULL,
        "seq" integer NOT NULL,
        "query_indices" integer array NOT NULL,
        "status" text NOT NULL DEFAULT 'open',
        "attempt" integer NOT NULL DEFAULT 1,
        "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "deadline_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "released_at" TIMESTAMP WITH TIME ZONE,
        "answered" integer,
        "event" jsonb,
        CONSTRAINT "PK_batches" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_batches_job_seq" UNIQUE ("job_id", "seq"),
        CONSTRAINT "FK_batches_job" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_batches_status" CHECK ("status" IN ('open', 'released', 'failed'))
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_batches_open" ON "batches" ("status", "deadline_at")`);
    await queryRunner.query(`
      CREATE TABLE "submissions" (
        "batch_id" uuid NOT NULL,
        "attempt" integer NOT NULL,
        "institution_id" uuid NOT NULL,
        "agent_id" uuid NOT NULL,
        "signer_public_key" text NOT NULL,
        "nonce" text NOT NULL,
        "envelope" jsonb NOT NULL,
        "envelope_sha256" character(64) NOT NULL,
        "teachers" integer NOT NULL,
        "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_submissions" PRIMARY KEY ("batch_id", "attempt", "institution_id"),
        CONSTRAINT "FK_submissions_batch" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE,
        CONSTRAINT "FK_submissions_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT
      )`);
    await queryRunner.query(`
      CREATE TABLE "released_labels" (
        "job_id" uuid NOT NULL,
        "query_index" integer NOT NULL,
        "batch_id" uuid NOT NULL,
        "answered" boolean NOT NULL,
        "label" integer,
        "soft" double precision array,
        CONSTRAINT "PK_released_labels" PRIMARY KEY ("job_id", "query_index"),
        CONSTRAINT "FK_released_labels_job" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE,
        CONSTRAINT "FK_released_labels_batch" FOREIGN KEY ("batch_id") REFERENCES "batches"("id") ON DELETE CASCADE
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['released_labels', 'submissions', 'batches', 'job_participants', 'jobs', 'pool_examples', 'tasks']) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
