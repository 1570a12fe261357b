import { Check, Column, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { bigintAsNumber } from '../../database/transformers';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';

export type BudgetStatus = 'active' | 'frozen';

/**
 * One institution's privacy budget. `rdp`, `epsilon_spent`, `optimal_order`, `last_seq` and
 * `last_hash` are caches of the institution's ledger chain, updated in the same transaction as the
 * entries; `ledger:verify` recomputes them from the stored events.
 */
@Entity({ name: 'privacy_budgets' })
@Check('CHK_privacy_budgets_cap', `"epsilon_cap" >= 0`)
@Check('CHK_privacy_budgets_delta', `"delta" > 0 AND "delta" < 1`)
@Check('CHK_privacy_budgets_status', `"status" IN ('active', 'frozen')`)
@Check('CHK_privacy_budgets_vectors', `cardinality("orders") > 0 AND cardinality("orders") = cardinality("rdp")`)
export class PrivacyBudgetEntity {
  @PrimaryColumn({ name: 'institution_id', type: 'uuid', primaryKeyConstraintName: 'PK_privacy_budgets' })
  institutionId!: string;

  @OneToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_privacy_budgets_institution' })
  institution?: InstitutionEntity;

  @Column({ name: 'epsilon_cap', type: 'double precision' })
  epsilonCap!: number;

  @Column({ type: 'double precision' })
  delta!: number;

  @Column({ type: 'text', default: 'rdp' })
  accountant!: string;

  @Column({ type: 'text', default: 'improved' })
  conversion!: string;

  @Column({ type: 'double precision', array: true })
  orders!: number[];

  @Column({ type: 'double precision', array: true })
  rdp!: number[];

  @Column({ name: 'epsilon_spent', type: 'double precision', default: 0 })
  epsilonSpent!: number;

  @Column({ name: 'optimal_order', type: 'double precision', nullable: true })
  optimalOrder!: number | null;

  @Column({ type: 'text', default: 'active' })
  status!: BudgetStatus;

  @Column({ name: 'last_seq', type: 'bigint', default: 0, transformer: bigintAsNumber })
  lastSeq!: number;

  @Column({ name: 'last_hash', type: 'character', length: 64 })
  lastHash!: string;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}
