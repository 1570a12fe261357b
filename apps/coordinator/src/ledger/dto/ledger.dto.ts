import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Length, Max, Min } from 'class-validator';

export class BudgetDto {
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty() institutionName!: string;
  @ApiProperty({ description: 'ε cap (natural log).' }) epsilonCap!: number;
  @ApiProperty({ description: 'δ at which ε is computed.' }) delta!: number;
  @ApiProperty({
    description:
      'ε spent at δ: the data-independent total under the budget’s conversion — exact (analytic Gaussian) for a composition of Gaussian mechanisms, or the improved RDP conversion at the best order for budgets opened with it. A guarantee.',
  })
  epsilonSpent!: number;
  @ApiProperty() epsilonRemaining!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'RDP order at which ε spent is attained (improved conversion); null under the exact one.',
  })
  optimalOrder!: number | null;
  @ApiProperty({ example: 'rdp' }) accountant!: string;
  @ApiProperty({
    enum: ['analytic_gaussian', 'improved'],
    example: 'analytic_gaussian',
    description:
      'analytic_gaussian: the total is a composition of Gaussian mechanisms, exactly √(Σμ²)-GDP; ε from Balle & Wang 2018 Thm 8 (as dp_accounting get_epsilon_gaussian). improved: Canonne–Kamath–Steinke 2020 Prop. 12 (as dp_accounting’s RDP accountant), for budgets opened before.',
  })
  conversion!: string;
  @ApiProperty({ enum: ['data_independent'] }) basis!: string;
  @ApiProperty({ description: 'Number of RDP orders tracked.' }) orders!: number;
  @ApiProperty({ enum: ['active', 'frozen'] }) status!: string;
  @ApiProperty({ description: 'Ledger entries of this institution.' }) entries!: number;
  @ApiProperty() updatedAt!: Date;
}

export class ChangeCapDto {
  @ApiProperty({ example: 6, description: 'New ε cap; never below what is already spent.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1000)
  epsilonCap!: number;

  @ApiProperty({ example: 'board approval 2026-12-01, minute 14', description: 'Why the cap changes (kept in the ledger).' })
  @IsString()
  @Length(3, 2000)
  reason!: string;
}

export class EntriesQueryDto {
  @ApiProperty({ required: false, default: 0, description: 'Return entries with seq greater than this.' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  afterSeq?: number;

  @ApiProperty({ required: false, default: 50, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export class LedgerEntryDto {
  @ApiProperty() seq!: number;
  @ApiProperty({ enum: ['budget_opened', 'budget_changed', 'charge'] }) kind!: string;
  @ApiProperty({ nullable: true, type: String }) jobId!: string | null;
  @ApiProperty({ nullable: true, type: String }) batchId!: string | null;
  @ApiProperty({ nullable: true, description: 'The DP event charged (dp_accounting-style event as data).' }) event!: unknown;
  @ApiProperty({ nullable: true, type: Number }) eventSchemaVersion!: number | null;
  @ApiProperty({ nullable: true, description: 'Budget changes: actor, reason, caps.' }) details!: unknown;
  @ApiProperty({ description: 'ε spent after this entry.' }) epsilonSpent!: number;
  @ApiProperty({ nullable: true, type: Number }) optimalOrder!: number | null;
  @ApiProperty({ description: 'Cap in force after this entry.' }) epsilonCap!: number;
  @ApiProperty() prevHash!: string;
  @ApiProperty() hash!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'Charges: the digest of the group of entries signed together with this one (one transaction); GET /ledger/groups/{digest} lists the group. Null when the entry is signed alone.',
  })
  groupDigest!: string | null;
  @ApiProperty({ description: 'Coordinator Ed25519 signature (base64) of the hash, or of groupDigest when it is set.' }) signature!: string;
  @ApiProperty() createdAt!: Date;
}

export class LedgerGroupMemberDto {
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() hash!: string;
}

export class LedgerGroupDto {
  @ApiProperty({ description: 'SHA-256 over the sorted hashes of the entries (see docs/ledger.md).' }) groupDigest!: string;
  @ApiProperty({ description: 'Coordinator Ed25519 signature of the digest (base64).' }) signature!: string;
  @ApiProperty({ type: [LedgerGroupMemberDto], description: 'Every entry carrying this digest, by hash.' })
  entries!: LedgerGroupMemberDto[];
}

export class LedgerPageDto {
  @ApiProperty({ type: [LedgerEntryDto] }) entries!: LedgerEntryDto[];
  @ApiProperty() total!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'Pass as afterSeq for the next page; null at the end.' }) nextAfterSeq!:
    number | null;
}

export class PublicKeyDto {
  @ApiProperty({ example: 'Ed25519' }) algorithm!: string;
  @ApiProperty({ description: 'Raw 32-byte public key, base64.' }) publicKey!: string;
  @ApiProperty({ description: 'SHA-256 of the raw key, hex.' }) fingerprint!: string;
}

export class LedgerProblemDto {
  @ApiProperty() institutionId!: string;
  @ApiProperty({ required: false }) seq?: number;
  @ApiProperty() problem!: string;
  @ApiProperty({ required: false }) detail?: string;
}

export class LedgerVerificationDto {
  @ApiProperty() institutions!: number;
  @ApiProperty() entries!: number;
  @ApiProperty() verified!: boolean;
  @ApiProperty({ type: [LedgerProblemDto] }) problems!: LedgerProblemDto[];
}
