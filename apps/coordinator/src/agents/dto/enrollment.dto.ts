import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { ENROLLMENT_TOKEN_PATTERN, MAX_AGENT_NAME_LENGTH, MAX_TEACHERS, PROTOCOL_VERSION } from '@concord/protocol';

export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 60 * 60;
export const MIN_TOKEN_TTL_SECONDS = 60;

/** Shape checks for the OpenAPI-facing DTOs; libs/protocol's validators then check canonical encoding. */
export const BASE64_32 = /^[A-Za-z0-9+/]{43}=$/;
export const BASE64_64 = /^[A-Za-z0-9+/]{86}==$/;

export class CreateEnrollmentTokenDto {
  @ApiProperty({
    required: false,
    default: DEFAULT_TOKEN_TTL_SECONDS,
    minimum: MIN_TOKEN_TTL_SECONDS,
    maximum: MAX_TOKEN_TTL_SECONDS,
    example: 86400,
    description: 'How long the token stays valid, in seconds (default 24 hours, at most 7 days).',
  })
  @IsOptional()
  @IsInt()
  @Min(MIN_TOKEN_TTL_SECONDS)
  @Max(MAX_TOKEN_TTL_SECONDS)
  ttlSeconds?: number;
}

export class EnrollmentTokenCreatedDto {
  @ApiProperty({ format: 'uuid', example: '5b0e2a35-3c36-4c8e-9a55-1f0c9f4b7a10' }) id!: string;
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty({
    example: 'cet_9YpQ-am0V7i1z1n1ZbA4rAoJOt9CybZ2CoY-7kPGQWg',
    description: 'The one-time token. Shown only in this response; the coordinator keeps only its SHA-256.',
  })
  token!: string;
  @ApiProperty({ example: '2026-12-01T03:40:00.000Z' }) expiresAt!: Date;
}

export class EnrollmentTokenDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty({ enum: ['unused', 'used', 'expired'] }) status!: 'unused' | 'used' | 'expired';
  @ApiProperty() createdAt!: Date;
  @ApiProperty() expiresAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) usedAt!: Date | null;
  @ApiProperty({ nullable: true, type: String, format: 'uuid', description: 'The agent this token enrolled.' }) agentId!: string | null;
  @ApiProperty({ description: 'Id of the API key that issued the token.' }) createdBy!: string;
}

export class EnrollDto {
  @ApiProperty({ required: false, enum: [PROTOCOL_VERSION], example: PROTOCOL_VERSION, description: 'Protocol version the agent speaks.' })
  @IsOptional()
  @IsIn([PROTOCOL_VERSION])
  protocolVersion?: typeof PROTOCOL_VERSION;

  @ApiProperty({ example: 'cet_9YpQ-am0V7i1z1n1ZbA4rAoJOt9CybZ2CoY-7kPGQWg', description: 'The one-time enrollment token from the admin.' })
  @IsString()
  @Matches(ENROLLMENT_TOKEN_PATTERN, { message: 'token must be an enrollment token (cet_ followed by 43 base64url characters)' })
  token!: string;

  @ApiProperty({
    example: 'HDyCmihHMmuklrGTtkYMG76m0YSpO10aGbcq5GRqgo0=',
    description: 'Ed25519 public key of the agent, base64 (32 bytes).',
  })
  @IsString()
  @Matches(BASE64_32, { message: 'signingPublicKey must be base64 of 32 bytes' })
  signingPublicKey!: string;

  @ApiProperty({
    example: 'q1WA0rDGjaiPi9uwSblqttH4FTBVNYzMqII18zQvvkE=',
    description: 'X25519 public key of the agent, base64 (32 bytes).',
  })
  @IsString()
  @Matches(BASE64_32, { message: 'boxPublicKey must be base64 of 32 bytes' })
  boxPublicKey!: string;

  @ApiProperty({
    required: false,
    example: 'radiology-gpu-01',
    description: `A name for this agent (1–${MAX_AGENT_NAME_LENGTH} characters).`,
  })
  @IsOptional()
  @IsString()
  @Length(1, MAX_AGENT_NAME_LENGTH)
  @Matches(/\S/, { message: 'agentName must not be blank' })
  agentName?: string;

  @ApiProperty({ required: false, example: 10, minimum: 1, maximum: MAX_TEACHERS, description: 'Number of teachers the agent trains.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_TEACHERS)
  teachers?: number;

  @ApiProperty({
    example: 'sHZ2xo1Qo4WO6UN5wJ/reoUGNVg+6UrJb60+mMGOEoWUsM5+R8hcJgD+Cs36o58pop4LgQTWL+V+NfW1xmlGBw==',
    description:
      'Ed25519 signature (base64, 64 bytes) by signingPublicKey over the enrollment claims; see libs/protocol (concord-enrollment-v1).',
  })
  @IsString()
  @Matches(BASE64_64, { message: 'proof must be base64 of 64 bytes' })
  proof!: string;
}

export class EnrollmentResponseDto {
  @ApiProperty({ enum: [PROTOCOL_VERSION], example: PROTOCOL_VERSION }) protocolVersion!: typeof PROTOCOL_VERSION;
  @ApiProperty({ format: 'uuid', description: 'Send it as x-concord-agent on every signed request.' }) agentId!: string;
  @ApiProperty({ format: 'uuid' }) institutionId!: string;
  @ApiProperty({ description: 'X25519 key to which the agent seals its answers, base64.' }) coordinatorBoxPublicKey!: string;
  @ApiProperty({
    example: 'QVm0FzEJ8vvKw5wBx3fW+ocsWnVliqIaVEuRc2SDZC3HqQh3ImclJerM4b3lnYDaqcBuaApN4mmpPT61WRM5Mg==',
    description:
      'Ed25519 signature (base64, 64 bytes) by coordinatorSigningPublicKey of the concord-box-key-v1 statement for ' +
      'coordinatorBoxPublicKey (libs/protocol box-key.ts); the agent verifies it before storing the box key.',
  })
  coordinatorBoxKeySignature!: string;
  @ApiProperty({ description: "The coordinator's Ed25519 key (the ledger key), base64." }) coordinatorSigningPublicKey!: string;
}
