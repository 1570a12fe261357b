import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { AgentEntity } from './agent.entity';

export type KeyRetirement = 'rotated' | 'revoked';

/** Every key pair an agent has held; the current one has no `valid_until`. A signing key appears once, ever. */
@Entity({ name: 'agent_keys' })
@Unique('UQ_agent_keys_signing_public_key', ['signingPublicKey'])
@Index('UQ_agent_keys_current', ['agentId'], { unique: true, where: `"valid_until" IS NULL` })
@Index('IDX_agent_keys_agent', ['agentId', 'validFrom'])
@Check(
  'CHK_agent_keys_retired',
  `("valid_until" IS NULL AND "retired_because" IS NULL) OR ("valid_until" IS NOT NULL AND "retired_because" IN ('rotated', 'revoked'))`,
)
export class AgentKeyEntity {
  /** bigint: kept as the string the driver returns. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_agent_keys' })
  id!: string;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  @ManyToOne(() => AgentEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'FK_agent_keys_agent' })
  agent?: AgentEntity;

  @Column({ name: 'signing_public_key', type: 'text' })
  signingPublicKey!: string;

  @Column({ name: 'box_public_key', type: 'text' })
  boxPublicKey!: string;

  @Column({ name: 'valid_from', type: 'timestamptz', default: () => 'now()' })
  validFrom!: Date;

  @Column({ name: 'valid_until', type: 'timestamptz', nullable: true })
  validUntil!: Date | null;

  @Column({ name: 'retired_because', type: 'text', nullable: true })
  retiredBecause!: KeyRetirement | null;
}
