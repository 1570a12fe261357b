import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Admin and compliance API keys: only a SHA-256 of the secret is stored. */
export class ApiKeys1764470200000 implements MigrationInterface {
  name = 'ApiKeys1764470200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "api_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "role" text NOT NULL,
        "label" text NOT NULL DEFAULT '',
        "secret_sha256" character(64) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "revoked_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_api_keys_role" CHECK ("role" IN ('admin', 'compliance'))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}
