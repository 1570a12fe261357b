import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Query selection: a job may ask its pool queries in rounds, each round's pool examples chosen by
 * a student trained on what the earlier rounds released (post-processing: no privacy cost).
 * `query_selection` holds the job's setting (null: the first `queries` pool examples, as before);
 * `pool_order[q]` is the public pool example asked as pool query q, for the rounds chosen so far.
 */
export class QuerySelection1764474000000 implements MigrationInterface {
  name = 'QuerySelection1764474000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" ADD "query_selection" jsonb`);
    await queryRunner.query(`ALTER TABLE "jobs" ADD "pool_order" integer[]`);
    await queryRunner.query(
      `ALTER TABLE "jobs" ADD CONSTRAINT "CHK_jobs_pool_order" CHECK (("query_selection" IS NULL) = ("pool_order" IS NULL))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP CONSTRAINT "CHK_jobs_pool_order"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "pool_order"`);
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "query_selection"`);
  }
}
