import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Group signatures: the charge entries one transaction appends are signed together, once, over
 * the digest of their hashes (libs/crypto `groupDigest`); each of them carries that digest in
 * `group_digest` and the one signature in `signature`. Entries signed alone (budget entries, and
 * every entry written before this migration) keep `group_digest` NULL and a signature of their own
 * hash, and verify as before.
 *
 * The index on `job_id` goes: the partial unique index on (job_id, batch_id, institution_id) of
 * charges serves every lookup by job (only charges have one), and each index costs every append.
 */
export class LedgerGroupSignatures1764473000000 implements MigrationInterface {
  name = 'LedgerGroupSignatures1764473000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "ledger_entries" ADD "group_digest" character(64)`);
    await queryRunner.query(
      `CREATE INDEX "IDX_ledger_entries_group" ON "ledger_entries" ("group_digest") WHERE "group_digest" IS NOT NULL`,
    );
    await queryRunner.query(`DROP INDEX "IDX_ledger_entries_job"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_ledger_entries_job" ON "ledger_entries" ("job_id")`);
    await queryRunner.query(`DROP INDEX "IDX_ledger_entries_group"`);
    await queryRunner.query(`ALTER TABLE "ledger_entries" DROP COLUMN "group_digest"`);
  }
}
