import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The student of each completed job: training state (claimed with SKIP LOCKED), metrics and the model. */
export class Students1764470500000 implements MigrationInterface {
  name = 'Students1764470500000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "students" (
        "job_id" uuid NOT NULL,
        "status" text NOT NULL DEFAULT 'queued',
        "attempts" integer NOT NULL DEFAULT 0,
        "claimed_at" TIMESTAMP WITH TIME ZONE,
        "finished_at" TIMESTAMP WITH TIME ZONE,
        "backend" text,
        "parameters" integer,
        "metrics" jsonb,
        "model_json" jsonb,
        "weights" bytea,
        "error" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_students" PRIMARY KEY ("job_id"),
        CONSTRAINT "FK_students_job" FOREIGN KEY ("job_id") REFERENCES "jobs"("id") ON DELETE CASCADE,
        CONSTRAINT "CHK_students_status" CHECK ("status" IN ('queued', 'training', 'ready', 'failed'))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "students"`);
  }
}
