import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Institutions1764470000000 implements MigrationInterface {
  name = 'Institutions1764470000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "institutions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "status" text NOT NULL DEFAULT 'pending',
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "UQ_institutions_name" UNIQUE ("name"),
        CONSTRAINT "PK_institutions" PRIMARY KEY ("id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "institutions"`);
  }
}
