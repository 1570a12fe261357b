import { Check, Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { JobEntity } from '../jobs/entities/job.entity';

@Entity({ name: 'students' })
@Check('CHK_students_status', `"status" IN ('queued', 'training', 'ready', 'failed')`)
export class StudentEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'PK_students' }) jobId!: string;

  @OneToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_students_job' })
  job?: JobEntity;

  @Column({ type: 'text', default: 'queued' }) status!: 'queued' | 'training' | 'ready' | 'failed';
  @Column({ type: 'integer', default: 0 }) attempts!: number;
  @Column({ name: 'claimed_at', type: 'timestamptz', nullable: true }) claimedAt!: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt!: Date | null;
  @Column({ type: 'text', nullable: true }) backend!: string | null;
  @Column({ type: 'integer', nullable: true }) parameters!: number | null;
  @Column({ type: 'jsonb', nullable: true }) metrics!: unknown;
  @Column({ name: 'model_json', type: 'jsonb', nullable: true }) modelJson!: unknown;
  @Column({ type: 'bytea', nullable: true }) weights!: Buffer | null;
  @Column({ type: 'text', nullable: true }) error!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
