import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

export type InstitutionStatus = 'pending' | 'active' | 'suspended' | 'revoked';

/** A bank or hospital taking part in the consortium. */
@Entity({ name: 'institutions' })
@Unique('UQ_institutions_name', ['name'])
export class InstitutionEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_institutions' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text', default: 'pending' })
  status!: InstitutionStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
