import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';

export type AgentStatus = 'active' | 'revoked';

/** An enrolled agent: one institution may run several. Its current keys are here, their history in agent_keys. */
@Entity({ name: 'agents' })
@Unique('UQ_agents_signing_public_key', ['signingPublicKey'])
@Index('IDX_agents_institution', ['institutionId'])
@Check(
  'CHK_agents_status',
  `("status" = 'active' AND "revoked_at" IS NULL AND "revoked_reason" IS NULL) OR ("status" = 'revoked' AND "revoked_at" IS NOT NULL AND "revoked_reason" IS NOT NULL)`,
)
@Check('CHK_agents_teachers', `"teachers" IS NULL OR "teachers" > 0`)
export class AgentEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_agents' })
  id!: string;

  @Column({ name: 'institution_id', type: 'uuid' })
  institutionId!: string;

  @ManyToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_agents_institution' })
  institution?: InstitutionEntity;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  /** Ed25519, base64 (32 bytes). */
  @Column({ name: 'signing_public_key', type: 'text' })
  signingPublicKey!: string;

  /** X25519, base64 (32 bytes). */
  @Column({ name: 'box_public_key', type: 'text' })
  boxPublicKey!: string;

  @Column({ type: 'integer', nullable: true })
  teachers!: number | null;

  @Column({ type: 'text', default: 'active' })
  status!: AgentStatus;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason!: string | null;
}
