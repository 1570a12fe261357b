import { randomBytes } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import {
  enrollmentTokenSha256,
  type FieldError,
  PROTOCOL_VERSION,
  validateEnrollmentRequest,
  verifyEnrollmentProof,
} from '@concord/protocol';
import { InvalidInputException, ProblemException } from '../common/problem';
import { AgentsRepository } from './agents.repository';
import { COORDINATOR_KEYS, CoordinatorKeys } from './coordinator-keys';
import {
  type EnrollDto,
  type EnrollmentResponseDto,
  type EnrollmentTokenCreatedDto,
  type EnrollmentTokenDto,
  DEFAULT_TOKEN_TTL_SECONDS,
} from './dto/enrollment.dto';

const ENROLLMENT_PROBLEM = 'https://concord.dev/problems/enrollment';

export function bodyErrors(errors: FieldError[]): FieldError[] {
  return errors.map((e) => ({ field: e.field === '(body)' ? 'body' : `body.${e.field}`, message: e.message }));
}

/** One-time enrollment tokens and the enrollment they allow. */
@Injectable()
export class EnrollmentService {
  constructor(
    private readonly repository: AgentsRepository,
    @Inject(COORDINATOR_KEYS) private readonly keys: CoordinatorKeys,
  ) {}

  /** Issues a token: 256 bits from the OS CSPRNG, returned once; only its SHA-256 is stored. */
  async createToken(institutionId: string, ttlSeconds: number | undefined, createdBy: string): Promise<EnrollmentTokenCreatedDto> {
    const institution = await this.repository.findInstitution(institutionId);
    if (!institution) throw new ProblemException(HttpStatus.NOT_FOUND, 'Institution not found', `no institution ${institutionId}`);
    if (institution.status === 'suspended' || institution.status === 'revoked') {
      throw new ProblemException(HttpStatus.CONFLICT, 'Institution not enrollable', `the institution is ${institution.status}`);
    }
    const token = `cet_${randomBytes(32).toString('base64url')}`;
    const row = await this.repository.insertToken(
      institutionId,
      enrollmentTokenSha256(token),
      ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS,
      createdBy,
    );
    return { id: row.id, institutionId, token, expiresAt: row.expiresAt };
  }

  async listTokens(institutionId: string): Promise<EnrollmentTokenDto[]> {
    if (!(await this.repository.findInstitution(institutionId))) {
      throw new ProblemException(HttpStatus.NOT_FOUND, 'Institution not found', `no institution ${institutionId}`);
    }
    const [rows, now] = await Promise.all([this.repository.listTokens(institutionId), this.repository.now()]);
    return rows.map((t) => ({
      id: t.id,
      institutionId: t.institutionId,
      status: t.usedAt ? 'used' : t.expiresAt <= now ? 'expired' : 'unused',
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      usedAt: t.usedAt,
      agentId: t.agentId,
      createdBy: t.createdBy,
    }));
  }

  /**
   * Enrolls an agent. Every check that needs no database (form, proof) runs first; the token is
   * then consumed and the agent created in one transaction, or nothing is written at all.
   */
  async enroll(body: EnrollDto): Promise<EnrollmentResponseDto> {
    const validated = validateEnrollmentRequest({ ...body });
    if (!validated.ok) throw new InvalidInputException(bodyErrors(validated.errors));
    const request = validated.value;
    if (!verifyEnrollmentProof(request, this.keys.signingPublicKeyBase64)) {
      throw new InvalidInputException([
        {
          field: 'body.proof',
          message: 'does not verify: it must be the signature by signingPublicKey of the concord-enrollment-v1 claims for this coordinator',
        },
      ]);
    }
    const outcome = await this.repository.enroll({
      tokenSha256: enrollmentTokenSha256(request.token),
      name: request.agentName ?? null,
      signingPublicKey: request.signingPublicKey,
      boxPublicKey: request.boxPublicKey,
      teachers: request.teachers ?? null,
    });
    switch (outcome.kind) {
      case 'enrolled':
        return {
          protocolVersion: PROTOCOL_VERSION,
          agentId: outcome.agent.id,
          institutionId: outcome.agent.institutionId,
          coordinatorBoxPublicKey: this.keys.boxPublicKeyBase64,
          coordinatorBoxKeySignature: this.keys.boxKeySignature,
          coordinatorSigningPublicKey: this.keys.signingPublicKeyBase64,
        };
      case 'token_unknown':
        throw new ProblemException(
          HttpStatus.UNAUTHORIZED,
          'Unknown enrollment token',
          'no enrollment token matches',
          [{ field: 'body.token', message: 'unknown token' }],
          ENROLLMENT_PROBLEM,
        );
      case 'token_used':
        throw new ProblemException(
          HttpStatus.GONE,
          'Enrollment token used',
          'this enrollment token was already used; ask the admin for a new one',
          [{ field: 'body.token', message: 'already used' }],
          ENROLLMENT_PROBLEM,
        );
      case 'token_expired':
        throw new ProblemException(
          HttpStatus.GONE,
          'Enrollment token expired',
          'this enrollment token has expired; ask the admin for a new one',
          [{ field: 'body.token', message: 'expired' }],
          ENROLLMENT_PROBLEM,
        );
      case 'institution_unavailable':
        throw new ProblemException(
          HttpStatus.FORBIDDEN,
          'Institution not enrollable',
          `the institution is ${outcome.status}`,
          undefined,
          ENROLLMENT_PROBLEM,
        );
      case 'key_in_use':
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Key already enrolled',
          'this signing key is or was enrolled, and keys are never reused; generate a new identity',
          [{ field: 'body.signingPublicKey', message: 'already enrolled' }],
          ENROLLMENT_PROBLEM,
        );
    }
  }
}
