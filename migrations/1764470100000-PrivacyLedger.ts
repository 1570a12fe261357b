import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Privacy budgets and the append-only ledger. Ledger rows can be inserted, never updated or
 * deleted: triggers refuse UPDATE, DELETE and TRUNCATE whatever the application does, so rewriting
 * history needs a superuser to disable the triggers first — and `ledger:verify` then detects it
 * through the hash chain and the coordinator's signatures.
 */
export class PrivacyLedger1764470100000 implements MigrationInterface {
  name = 'PrivacyLedger1764470100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "privacy_budgets" (
        "institution_id" uuid NOT NULL,
        "epsilon_cap" double precision NOT NULL,
        "delta" double precision NOT NULL,
        "accountant" text NOT NULL DEFAULT 'rdp',
        "conversion" text NOT NULL DEFAULT 'improved',
        "orders" double precision array NOT NULL,
        "rdp" double precision array NOT NULL,
        "epsilon_spent" double precision NOT NULL DEFAULT 0,
        "optimal_order" double precision,
        "status" text NOT NULL DEFAULT 'active',
        "last_seq" bigint NOT NULL DEFAULT 0,
        "last_hash" character(64) NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_privacy_budgets" PRIMARY KEY ("institution_id"),
        CONSTRAINT "FK_privacy_budgets_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_privacy_budgets_cap" CHECK ("epsilon_cap" >= 0),
        CONSTRAINT "CHK_privacy_budgets_delta" CHECK ("delta" > 0 AND "delta" < 1),
        CONSTRAINT "CHK_privacy_budgets_status" CHECK ("status" IN ('active', 'frozen')),
        CONSTRAINT "CHK_privacy_budgets_vectors" CHECK (cardinality("orders") > 0 AND cardinality("orders") = cardinality("rdp"))
      )`);
    await queryRunner.query(`
      CREATE TABLE "ledger_entries" (
        "id" BIGSERIAL NOT NULL,
        "institution_id" uuid NOT NULL,
        "seq" bigint NOT NULL,
        "kind" text NOT NULL,
        "job_id" text,
        "batch_id" text,
        "event" jsonb,
        "event_schema_version" integer,
        "details" jsonb,
        "rdp" double precision array NOT NULL,
        "epsilon_spent" double precision NOT NULL,
        "optimal_order" double precision,
        "epsilon_cap" double precision NOT NULL,
        "prev_hash" character(64) NOT NULL,
        "hash" character(64) NOT NULL,
        "signature" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_ledger_entries" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_ledger_entries_institution_seq" UNIQUE ("institution_id", "seq"),
        CONSTRAINT "UQ_ledger_entries_hash" UNIQUE ("hash"),
        CONSTRAINT "FK_ledger_entries_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_ledger_entries_kind" CHECK ("kind" IN ('budget_opened', 'budget_changed', 'charge')),
        CONSTRAINT "CHK_ledger_entries_seq" CHECK ("seq" > 0),
        CONSTRAINT "CHK_ledger_entries_charge" CHECK (
          ("kind" = 'charge' AND "event" IS NOT NULL AND "job_id" IS NOT NULL AND "batch_id" IS NOT NULL)
          OR ("kind" <> 'charge' AND "details" IS NOT NULL))
      )`);
    // At most one charge per (job, batch, institution): the database itself forbids a double charge.
    await queryRunner.query(
      `CREATE UNIQUE INDEX "UQ_ledger_entries_charge" ON "ledger_entries" ("job_id", "batch_id", "institution_id") WHERE "kind" = 'charge'`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_ledger_entries_job" ON "ledger_entries" ("job_id")`);
    await queryRunner.query(`
      CREATE FUNCTION "concord_ledger_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ledger_entries is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER "ledger_entries_no_update_delete" BEFORE UPDATE OR DELETE ON "ledger_entries"
      FOR EACH ROW EXECUTE FUNCTION "concord_ledger_append_only"()`);
    await queryRunner.query(`
      CREATE TRIGGER "ledger_entries_no_truncate" BEFORE TRUNCATE ON "ledger_entries"
      FOR EACH STATEMENT EXECUTE FUNCTION "concord_ledger_append_only"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "ledger_entries"`);
    await queryRunner.query(`DROP FUNCTION "concord_ledger_append_only"()`);
    await queryRunner.query(`DROP TABLE "privacy_budgets"`);
  }
}
