import { ApiProperty } from '@nestjs/swagger';
import { IsObject, IsString } from 'class-validator';

export class BatchAnswerDto {
  @ApiProperty({ example: 'q1Zx0bWgY2m7tKc9nR4sPw', description: '16–128 base64url characters; part of the envelope’s signed context.' })
  @IsString()
  nonce!: string;

  @ApiProperty({
    description:
      'libs/crypto sealed-and-signed envelope (x25519-xsalsa20-poly1305 + ed25519) of a BatchAnswerPayload, sealed to the coordinator box key; signed context {batchId, nonce, jobId, attempt}.',
    example: { version: 1, alg: 'x25519-xsalsa20-poly1305+ed25519', ephemeralPublicKey: '…', nonce: '…', ciphertext: '…', signature: '…' },
  })
  @IsObject()
  envelope!: Record<string, unknown>;
}

export class AnswerReceiptDto {
  @ApiProperty({ enum: ['accepted', 'already_received'] }) status!: string;
}

export class BatchQueryDto {
  @ApiProperty() index!: number;
  @ApiProperty({ type: [Number] }) features!: number[];
}

export class BatchAssignmentDto {
  @ApiProperty() protocolVersion!: number;
  @ApiProperty() jobId!: string;
  @ApiProperty() batchId!: string;
  @ApiProperty() seq!: number;
  @ApiProperty() attempt!: number;
  @ApiProperty() deadline!: string;
  @ApiProperty({ example: { kind: 'confident_gnmax', threshold: 200, sigma1: 150, sigma2: 40 } }) mechanism!: unknown;
  @ApiProperty({ enum: ['votes', 'probabilities'] }) answerKind!: string;
  @ApiProperty({ type: [String] }) classes!: string[];
  @ApiProperty() inputSpec!: unknown;
  @ApiProperty() delta!: number;
  @ApiProperty({ nullable: true, type: Number }) teachers!: number | null;
  @ApiProperty({ type: [BatchQueryDto] }) queries!: BatchQueryDto[];
}
