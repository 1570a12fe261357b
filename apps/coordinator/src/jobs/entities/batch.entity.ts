import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { JobEntity } from './job.entity';

@Entity({ name: 'batches' })
@Unique('UQ_batches_job_seq', ['jobId', 'seq'])
@Index('IDX_batches_open', ['status', 'deadlineAt'])
@Check('CHK_batches_status', `"status" IN ('open', 'released', 'failed')`)
export class BatchEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_batches' }) id!: string;
  @Column({ name: 'job_id', type: 'uuid' }) jobId!: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_batches_job' })
  job?: JobEntity;

  @Column({ type: 'integer' }) seq!: number;
  @Column({ name: 'query_indices', type: 'integer', array: true }) queryIndices!: number[];
  @Column({ type: 'text', default: 'open' }) status!: 'open' | 'released' | 'failed';
  @Column({ type: 'integer', default: 1 }) attempt!: number;
  @Column({ name: 'opened_at', type: 'timestamptz', default: () => 'now()' }) openedAt!: Date;
  @Column({ name: 'deadline_at', type: 'timestamptz' }) deadlineAt!: Date;
  @Column({ name: 'released_at', type: 'timestamptz', nullable: true }) releasedAt!: Date | null;
  @Column({ type: 'integer', nullable: true }) answered!: number | null;
  @Column({ type: 'jsonb', nullable: true }) event!: unknown;
  /** While a replica aggregates the batch (see JobsRepository.claimBatch). */
  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true }) leaseUntil!: Date | null;
  @Column({ name: 'lease_owner', type: 'text', nullable: true }) leaseOwner!: string | null;
}
