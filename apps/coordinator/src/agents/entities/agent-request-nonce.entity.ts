import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { AgentEntity } from './agent.entity';

/**
 * A nonce of an accepted signed request, kept until 10 minutes after the request's timestamp
 * (twice the ±5-minute window in which the timestamp is accepted). The primary key refuses a
 * replay on every coordinator replica at once.
 */
@Entity({ name: 'agent_request_nonces' })
@Index('IDX_agent_request_nonces_expires_at', ['expiresAt'])
export class AgentRequestNonceEntity {
  @PrimaryColumn({ name: 'agent_id', type: 'uuid', primaryKeyConstraintName: 'PK_agent_request_nonces' })
  agentId!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'PK_agent_request_nonces' })
  nonce!: string;

  @ManyToOne(() => AgentEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'FK_agent_request_nonces_agent' })
  agent?: AgentEntity;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
