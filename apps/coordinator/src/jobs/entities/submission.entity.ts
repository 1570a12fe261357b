import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';
import { BatchEntity } from './batch.entity';

/** An institution's answer to one attempt of a batch, exactly as sealed and signed by its agent. */
@Entity({ name: 'submissions' })
export class SubmissionEntity {
  @PrimaryColumn({ name: 'batch_id', type: 'uuid', primaryKeyConstraintName: 'PK_submissions' }) batchId!: string;

  @ManyToOne(() => BatchEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'batch_id', foreignKeyConstraintName: 'FK_submissions_batch' })
  batch?: BatchEntity;

  @PrimaryColumn({ type: 'integer', primaryKeyConstraintName: 'PK_submissions' }) attempt!: number;
  @PrimaryColumn({ name: 'institution_id', type: 'uuid', primaryKeyConstraintName: 'PK_submissions' }) institutionId!: string;

  @ManyToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_submissions_institution' })
  institution?: InstitutionEntity;

  @Column({ name: 'agent_id', type: 'uuid' }) agentId!: string;
  /** The agent's signing key the envelope was verified with when it arrived (base64). */
  @Column({ name: 'signer_public_key', type: 'text' }) signerPublicKey!: string;
  @Column({ type: 'text' }) nonce!: string;
  @Column({ type: 'jsonb' }) envelope!: unknown;
  @Column({ name: 'envelope_sha256', type: 'character', length: 64 }) envelopeSha256!: string;
  @Column({ type: 'integer' }) teachers!: number;
  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' }) receivedAt!: Date;
}
