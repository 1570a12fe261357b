import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintAsNumber } from '../../database/transformers';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';

export type LedgerEntryKind = 'budget_opened' | 'budget_changed' | 'charge';

/** One append-only, hash-chained, signed ledger entry (the database refuses UPDATE and DELETE). */
@Entity({ name: 'ledger_entries' })
@Unique('UQ_ledger_entries_institution_seq', ['institutionId', 'seq'])
@Unique('UQ_ledger_entries_hash', ['hash'])
@Index('UQ_ledger_entries_charge', ['jobId', 'batchId', 'institutionId'], { unique: true, where: `"kind" = 'charge'` })
@Index('IDX_ledger_entries_group', ['groupDigest'], { where: `"group_digest" IS NOT NULL` })
@Check('CHK_ledger_entries_kind', `"kind" IN ('budget_opened', 'budget_changed', 'charge')`)
@Check('CHK_ledger_entries_seq', `"seq" > 0`)
@Check(
  'CHK_ledger_entries_charge',
  `("kind" = 'charge' AND "event" IS NOT NULL AND "job_id" IS NOT NULL AND "batch_id" IS NOT NULL) OR ("kind" <> 'charge' AND "details" IS NOT NULL)`,
)
export class LedgerEntryEntity {
  /** bigint: kept as the string the driver returns. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'PK_ledger_entries' })
  id!: string;

  @Column({ name: 'institution_id', type: 'uuid' })
  institutionId!: string;

  @ManyToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_ledger_entries_institution' })
  institution?: InstitutionEntity;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  seq!: number;

  @Column({ type: 'text' })
  kind!: LedgerEntryKind;

  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId!: string | null;

  @Column({ name: 'batch_id', type: 'text', nullable: true })
  batchId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  event!: unknown;

  @Column({ name: 'event_schema_version', type: 'integer', nullable: true })
  eventSchemaVersion!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  details!: unknown;

  @Column({ type: 'double precision', array: true })
  rdp!: number[];

  @Column({ name: 'epsilon_spent', type: 'double precision' })
  epsilonSpent!: number;

  @Column({ name: 'optimal_order', type: 'double precision', nullable: true })
  optimalOrder!: number | null;

  @Column({ name: 'epsilon_cap', type: 'double precision' })
  epsilonCap!: number;

  @Column({ name: 'prev_hash', type: 'character', length: 64 })
  prevHash!: string;

  @Column({ type: 'character', length: 64 })
  hash!: string;

  /** The digest of the group this entry was signed with (libs/crypto `groupDigest`), or null if signed alone. */
  @Column({ name: 'group_digest', type: 'character', length: 64, nullable: true })
  groupDigest!: string | null;

  /** Ed25519 (base64) of `hash`, or of `groupDigest` when set. */
  @Column({ type: 'text' })
  signature!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
