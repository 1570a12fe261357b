import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';
import { AgentEntity } from './agent.entity';

/** A one-time enrollment token. The token itself is never stored, only its SHA-256. */
@Entity({ name: 'enrollment_tokens' })
@Unique('UQ_enrollment_tokens_token_sha256', ['tokenSha256'])
@Index('IDX_enrollment_tokens_institution', ['institutionId'])
@Check('CHK_enrollment_tokens_expiry', `"expires_at" > "created_at"`)
@Check('CHK_enrollment_tokens_used', `"agent_id" IS NULL OR "used_at" IS NOT NULL`)
export class EnrollmentTokenEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_enrollment_tokens' })
  id!: string;

  @Column({ name: 'institution_id', type: 'uuid' })
  institutionId!: string;

  @ManyToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_enrollment_tokens_institution' })
  institution?: InstitutionEntity;

  @Column({ name: 'token_sha256', type: 'character', length: 64 })
  tokenSha256!: string;

  /** The API key that issued the token. */
  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;

  /** The agent the token enrolled. */
  @Column({ name: 'agent_id', type: 'uuid', nullable: true })
  agentId!: string | null;

  @ManyToOne(() => AgentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'FK_enrollment_tokens_agent' })
  agent?: AgentEntity;
}
