import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Evaluation queries: the last `evaluation_queries` of a job's `queries` are examples of the task's
 * labelled holdout, asked through the same mechanism and charged like the others, so that the
 * released labels' accuracy can be measured. Their labels are never given to the student.
 */
export class EvaluationQueries1764472000000 implements MigrationInterface {
  name = 'EvaluationQueries1764472000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" ADD "evaluation_queries" integer NOT NULL DEFAULT 0`);
    await queryRunner.query(
      `ALTER TABLE "jobs" ADD CONSTRAINT "CHK_jobs_evaluation_queries" CHECK ("evaluation_queries" >= 0 AND "evaluation_queries" < "queries")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "CHK_jobs_evaluation_queries"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "evaluation_queries"`);
  }
}
