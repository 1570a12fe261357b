import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lease on a batch while one coordinator replica aggregates it: claimed with FOR UPDATE SKIP
 * LOCKED, so replicas never aggregate the same batch at once, and expiring, so a replica that dies
 * mid-aggregation does not hold the batch forever.
 */
export class BatchLeases1764470800000 implements MigrationInterface {
  name = 'BatchLeases1764470800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "batches" ADD "lease_until" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "batches" ADD "lease_owner" text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "batches" DROP COLUMN "lease_owner"`);
    await queryRunner.query(`ALTER TABLE "batches" DROP COLUMN "lease_until"`);
  }
}
