import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * How a job's student is trained (features, layers, epochs), chosen by the admin at job creation;
 * NULL means the defaults. Public settings: they describe the model, not anyone's data.
 */
export class StudentSettings1764471000000 implements MigrationInterface {
  name = 'StudentSettings1764471000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" ADD "student_settings" jsonb`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "jobs" DROP COLUMN "student_settings"`);
  }
}
