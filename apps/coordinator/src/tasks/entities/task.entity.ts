import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** How a task's examples look: an image of a fixed shape, or named tabular features. */
export type InputSpec =
  { kind: 'image'; shape: number[]; scale?: number } | { kind: 'tabular'; features: { name: string; mean?: number; std?: number }[] };

@Entity({ name: 'tasks' })
@Unique('UQ_tasks_name', ['name'])
@Check('CHK_tasks_classes', `cardinality("classes") >= 2`)
export class TaskEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_tasks' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'input_spec', type: 'jsonb' })
  inputSpec!: InputSpec;

  @Column({ type: 'text', array: true })
  classes!: string[];

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
