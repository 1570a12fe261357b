import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { TaskEntity } from './task.entity';

export type PoolSplit = 'public' | 'holdout';

/** One example of a task's public (unlabelled) pool, or of its labelled holdout. */
@Entity({ name: 'pool_examples' })
@Check('CHK_pool_examples_split', `"split" IN ('public', 'holdout')`)
@Check('CHK_pool_examples_label', `"split" = 'public' AND "label" IS NULL OR "split" = 'holdout' AND "label" IS NOT NULL`)
export class PoolExampleEntity {
  @PrimaryColumn({ name: 'task_id', type: 'uuid', primaryKeyConstraintName: 'PK_pool_examples' })
  taskId!: string;

  @ManyToOne(() => TaskEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'FK_pool_examples_task' })
  task?: TaskEntity;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_pool_examples' })
  split!: PoolSplit;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_pool_examples' })
  idx!: number;

  @Column({ type: 'real', array: true })
  features!: number[];

  @Column({ type: 'integer', nullable: true })
  label!: number | null;
}
