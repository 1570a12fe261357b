import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PROTOCOL_VERSION } from '@concord/protocol';

import { BASE64_32, BASE64_64 } from './enrollment.dto';

export class AgentDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty({ nullable: true, type: String }) name!: string | null;
  @ApiProperty({ enum: ['active', 'revoked'] }) status!: 'active' | 'revoked';
  @ApiProperty({ description: 'Current Ed25519 key, base64.' }) signingPublicKey!: string;
  @ApiProperty({ description: 'SHA-256 of the raw signing key, hex.' }) signingKeyFingerprint!: string;
  @ApiProperty({ description: 'Current X25519 key, base64.' }) boxPublicKey!: string;
  @ApiProperty({ nullable: true, type: Number }) teachers!: number | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) rotatedAt!: Date | null;
  @ApiProperty({ nullable: true, type: Date }) revokedAt!: Date | null;
  @ApiProperty({ nullable: true, type: String }) revokedReason!: string | null;
}

export class AgentKeyDto {
  @ApiProperty() signingPublicKey!: string;
  @ApiProperty() signingKeyFingerprint!: string;
  @ApiProperty() boxPublicKey!: string;
  @ApiProperty() validFrom!: Date;
  @ApiProperty({ nullable: true, type: Date, description: 'Null for the current key.' }) validUntil!: Date | null;
  @ApiProperty({ nullable: true, enum: ['rotated', 'revoked'] }) retiredBecause!: 'rotated' | 'revoked' | null;
}

export class AgentDetailDto extends AgentDto {
  @ApiProperty({ type: [AgentKeyDto], description: 'Every key pair the agent has held, oldest first.' }) keys!: AgentKeyDto[];
}

export class ListAgentsQueryDto {
  @ApiProperty({ required: false, format: 'uuid', description: "Only this institution's agents." })
  @IsOptional()
  @IsUUID()
  institutionId?: string;

  @ApiProperty({ required: false, enum: ['active', 'revoked'] })
  @IsOptional()
  @IsIn(['active', 'revoked'])
  status?: 'active' | 'revoked';
}

export class RotateKeysDto {
  @ApiProperty({ example: 'ovYGCjlN4kgBG2EaM8Pm13ycnkoH5HZEYaKxK6fODqs=', description: 'New Ed25519 public key, base64 (32 bytes).' })
  @IsString()
  @Matches(BASE64_32, { message: 'signingPublicKey must be base64 of 32 bytes' })
  signingPublicKey!: string;

  @ApiProperty({ example: 'lY2rGjATuSsb7fEyjb/tm6EaCVLXAv1WClaVyK+2TQU=', description: 'New X25519 public key, base64 (32 bytes).' })
  @IsString()
  @Matches(BASE64_32, { message: 'boxPublicKey must be base64 of 32 bytes' })
  boxPublicKey!: string;

  @ApiProperty({
    example: 'sHZ2xo1Qo4WO6UN5wJ/reoUGNVg+6UrJb60+mMGOEoWUsM5+R8hcJgD+Cs36o58pop4LgQTWL+V+NfW1xmlGBw==',
    description: 'Ed25519 signature by the NEW signing key over the rotation claims; see libs/protocol (concord-key-rotation-v1).',
  })
  @IsString()
  @Matches(BASE64_64, { message: 'proof must be base64 of 64 bytes' })
  proof!: string;
}

export class RevokeAgentDto {
  @ApiProperty({
    example: 'laptop holding the key was stolen (incident 2026-114)',
    description: 'Why the agent is revoked (kept with it).',
  })
  @IsString()
  @Length(3, 2000)
  @Matches(/\S/, { message: 'reason must not be blank' })
  reason!: string;
}

export class CoordinatorIdentityDto {
  @ApiProperty({ enum: [PROTOCOL_VERSION], example: PROTOCOL_VERSION }) protocolVersion!: typeof PROTOCOL_VERSION;
  @ApiProperty({ description: 'Ed25519 ledger key, base64; enrollment and rotation proofs bind it.' }) signingPublicKey!: string;
  @ApiProperty({ description: 'SHA-256 of the raw signing key, hex: check it out of band before enrolling.' })
  signingKeyFingerprint!: string;
  @ApiProperty({ description: 'X25519 key to which agents seal their answers, base64.' }) boxPublicKey!: string;
  @ApiProperty({
    example: 'QVm0FzEJ8vvKw5wBx3fW+ocsWnVliqIaVEuRc2SDZC3HqQh3ImclJerM4b3lnYDaqcBuaApN4mmpPT61WRM5Mg==',
    description:
      'Ed25519 signature (base64, 64 bytes) by signingPublicKey of the box key statement "concord-box-key-v1\\n" ‖ canonical JSON ' +
      '{protocolVersion, coordinatorSigningPublicKey, boxPublicKey, boxKeyId} (libs/protocol box-key.ts). Agents verify it against ' +
      'the signing key they pinned and seal nothing to a box key whose statement does not verify.',
  })
  boxKeySignature!: string;
}

export class InstitutionSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['pending', 'active', 'suspended', 'revoked'] }) status!: string;
}

export class AgentSelfDto {
  @ApiProperty({ enum: [PROTOCOL_VERSION], example: PROTOCOL_VERSION }) protocolVersion!: typeof PROTOCOL_VERSION;
  @ApiProperty({ type: AgentDto }) agent!: AgentDto;
  @ApiProperty({ type: InstitutionSummaryDto }) institution!: InstitutionSummaryDto;
  @ApiProperty({ type: CoordinatorIdentityDto }) coordinator!: CoordinatorIdentityDto;
}
