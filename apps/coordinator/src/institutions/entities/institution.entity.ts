import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type InstitutionStatus = 'pending' | 'active' | 'suspended' | 'revoked';

/** A bank or hospital taking part in the consortium. */
@Entity({ name: 'institutions' })
export class InstitutionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text', default: 'pending' })
  status!: InstitutionStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
