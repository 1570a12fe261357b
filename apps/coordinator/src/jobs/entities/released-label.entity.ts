import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BatchEntity } from './batch.entity';
import { JobEntity } from './job.entity';

/** A label released for one query: written only in the transaction that charged it. */
@Entity({ name: 'released_labels' })
export class ReleasedLabelEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'PK_released_labels' }) jobId!: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_released_labels_job' })
  job?: JobEntity;

  @PrimaryColumn({ name: 'query_index', type: 'integer', primaryKeyConstraintName: 'PK_released_labels' }) queryIndex!: number;
  @Column({ name: 'batch_id', type: 'uuid' }) batchId!: string;

  @ManyToOne(() => BatchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'batch_id', foreignKeyConstraintName: 'FK_released_labels_batch' })
  batch?: BatchEntity;

  @Column({ type: 'boolean' }) answered!: boolean;
  @Column({ type: 'integer', nullable: true }) label!: number | null;
  @Column({ type: 'double precision', array: true, nullable: true }) soft!: number[] | null;
}
