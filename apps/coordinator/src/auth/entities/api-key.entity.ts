import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type ApiRole = 'admin' | 'compliance';

/** An admin or compliance API key. The secret itself is never stored, only its SHA-256. */
@Entity({ name: 'api_keys' })
@Check('CHK_api_keys_role', `"role" IN ('admin', 'compliance')`)
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'PK_api_keys' })
  id!: string;

  @Column({ type: 'text' })
  role!: ApiRole;

  @Column({ type: 'text', default: '' })
  label!: string;

  @Column({ name: 'secret_sha256', type: 'character', length: 64 })
  secretSha256!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
