import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents and their enrollment: one-time enrollment tokens (only a SHA-256 is stored), agent
 * identities with their current keys, the history of every key an agent has held (a signing key
 * appears there at most once, ever: a rotated-away or revoked key never comes back), and the nonces
 * of signed agent requests (a replay is refused by the primary key, on every replica at once).
 */
export class Agents1764470300000 implements MigrationInterface {
  name = 'Agents1764470300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "agents" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "institution_id" uuid NOT NULL,
        "name" text,
        "signing_public_key" text NOT NULL,
        "box_public_key" text NOT NULL,
        "teachers" integer,
        "status" text NOT NULL DEFAULT 'active',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "rotated_at" TIMESTAMP WITH TIME ZONE,
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        "revoked_reason" text,
        CONSTRAINT "PK_agents" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_agents_signing_public_key" UNIQUE ("signing_public_key"),
        CONSTRAINT "FK_agents_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_agents_status" CHECK (
          ("status" = 'active' AND "revoked_at" IS NULL AND "revoked_reason" IS NULL)
          OR ("status" = 'revoked' AND "revoked_at" IS NOT NULL AND "revoked_reason" IS NOT NULL)),
        CONSTRAINT "CHK_agents_teachers" CHECK ("teachers" IS NULL OR "teachers" > 0)
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_agents_institution" ON "agents" ("institution_id")`);
    await queryRunner.query(`
      CREATE TABLE "agent_keys" (
        "id" BIGSERIAL NOT NULL,
        "agent_id" uuid NOT NULL,
        "signing_public_key" text NOT NULL,
        "box_public_key" text NOT NULL,
        "valid_from" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "valid_until" TIMESTAMP WITH TIME ZONE,
        "retired_because" text,
        CONSTRAINT "PK_agent_keys" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_agent_keys_signing_public_key" UNIQUE ("signing_public_key"),
        CONSTRAINT "FK_agent_keys_agent" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_agent_keys_retired" CHECK (
          ("valid_until" IS NULL AND "retired_because" IS NULL)
          OR ("valid_until" IS NOT NULL AND "retired_because" IN ('rotated', 'revoked')))
      )`);
    // At most one current key per agent.
    await queryRunner.query(`CREATE UNIQUE INDEX "UQ_agent_keys_current" ON "agent_keys" ("agent_id") WHERE "valid_until" IS NULL`);
    await queryRunner.query(`CREATE INDEX "IDX_agent_keys_agent" ON "agent_keys" ("agent_id", "valid_from")`);
    await queryRunner.query(`
      CREATE TABLE "enrollment_tokens" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "institution_id" uuid NOT NULL,
        "token_sha256" character(64) NOT NULL,
        "created_by" text NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "used_at" TIMESTAMP WITH TIME ZONE,
        "agent_id" uuid,
        CONSTRAINT "PK_enrollment_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_enrollment_tokens_token_sha256" UNIQUE ("token_sha256"),
        CONSTRAINT "FK_enrollment_tokens_institution" FOREIGN KEY ("institution_id") REFERENCES "institutions"("id") ON DELETE RESTRICT,
        CONSTRAINT "FK_enrollment_tokens_agent" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE RESTRICT,
        CONSTRAINT "CHK_enrollment_tokens_expiry" CHECK ("expires_at" > "created_at"),
        CONSTRAINT "CHK_enrollment_tokens_used" CHECK ("agent_id" IS NULL OR "used_at" IS NOT NULL)
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_enrollment_tokens_institution" ON "enrollment_tokens" ("institution_id")`);
    await queryRunner.query(`
      CREATE TABLE "agent_request_nonces" (
        "agent_id" uuid NOT NULL,
        "nonce" text NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "PK_agent_request_nonces" PRIMARY KEY ("agent_id", "nonce"),
        CONSTRAINT "FK_agent_request_nonces_agent" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(`CREATE INDEX "IDX_agent_request_nonces_expires_at" ON "agent_request_nonces" ("expires_at")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "agent_request_nonces"`);
    await queryRunner.query(`DROP TABLE "enrollment_tokens"`);
    await queryRunner.query(`DROP TABLE "agent_keys"`);
    await queryRunner.query(`DROP TABLE "agents"`);
  }
}
