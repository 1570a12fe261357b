import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { base64ToBytes, publicKeyFingerprint } from '@concord/crypto';
import { PROTOCOL_VERSION, validateKeyRotationRequest, verifyKeyRotationProof } from '@concord/protocol';
import { InvalidInputException, ProblemException } from '../common/problem';
import type { AuthenticatedAgent } from './agent-authenticator';
import { type AgentRecord, AgentsRepository } from './agents.repository';
import { COORDINATOR_KEYS, CoordinatorKeys } from './coordinator-keys';
import type { AgentDetailDto, AgentDto, AgentSelfDto, RotateKeysDto } from './dto/agent.dto';
import { bodyErrors } from './enrollment.service';
import type { AgentStatus } from './entities/agent.entity';

function fingerprint(base64Key: string): string {
  return publicKeyFingerprint(base64ToBytes(base64Key, 'signingPublicKey', 32));
}

export function toAgentDto(agent: AgentRecord): AgentDto {
  return {
    id: agent.id,
    institutionId: agent.institutionId,
    name: agent.name,
    status: agent.status,
    signingPublicKey: agent.signingPublicKey,
    signingKeyFingerprint: fingerprint(agent.signingPublicKey),
    boxPublicKey: agent.boxPublicKey,
    teachers: agent.teachers,
    createdAt: agent.createdAt,
    rotatedAt: agent.rotatedAt,
    revokedAt: agent.revokedAt,
    revokedReason: agent.revokedReason,
  };
}

/** Agent identities: listing, self-description, key rotation and revocation. */
@Injectable()
export class AgentsService {
  constructor(
    private readonly repository: AgentsRepository,
    @Inject(COORDINATOR_KEYS) private readonly keys: CoordinatorKeys,
  ) {}

  async list(filter: { institutionId?: string; status?: AgentStatus }): Promise<AgentDto[]> {
    return (await this.repository.listAgents(filter)).map(toAgentDto);
  }

  async get(id: string): Promise<AgentDetailDto> {
    const agent = await this.repository.findAgent(id);
    if (!agent) throw new ProblemException(HttpStatus.NOT_FOUND, 'Agent not found', `no agent ${id}`);
    const keys = await this.repository.keyHistory(id);
    return {
      ...toAgentDto(agent),
      keys: keys.map((k) => ({
        signingPublicKey: k.signingPublicKey,
        signingKeyFingerprint: fingerprint(k.signingPublicKey),
        boxPublicKey: k.boxPublicKey,
        validFrom: k.validFrom,
        validUntil: k.validUntil,
        retiredBecause: k.retiredBecause,
      })),
    };
  }

  async self(agent: AuthenticatedAgent): Promise<AgentSelfDto> {
    const institution = await this.repository.findInstitution(agent.institutionId);
    if (!institution) throw new ProblemException(HttpStatus.NOT_FOUND, 'Institution not found', `no institution ${agent.institutionId}`);
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: toAgentDto(agent.record),
      institution: { id: institution.id, name: institution.name, status: institution.status },
      coordinator: this.keys.identity(),
    };
  }

  /** Replaces the agent's keys; the request was signed by the current key, the proof by the new one. */
  async rotate(agent: AuthenticatedAgent, body: RotateKeysDto): Promise<AgentDto> {
    const validated = validateKeyRotationRequest({ ...body });
    if (!validated.ok) throw new InvalidInputException(bodyErrors(validated.errors));
    const request = validated.value;
    if (request.signingPublicKey === agent.signingPublicKey) {
      throw new InvalidInputException([{ field: 'body.signingPublicKey', message: 'must differ from the current signing key' }]);
    }
    const proofOk = verifyKeyRotationProof(request, {
      coordinatorSigningPublicKey: this.keys.signingPublicKeyBase64,
      agentId: agent.id,
      previousSigningPublicKey: agent.signingPublicKey,
    });
    if (!proofOk) {
      throw new InvalidInputException([
        {
          field: 'body.proof',
          message: 'does not verify: it must be the signature by the new signing key of the concord-key-rotation-v1 claims',
        },
      ]);
    }
    const outcome = await this.repository.rotateKeys(agent.id, agent.signingPublicKey, request.signingPublicKey, request.boxPublicKey);
    switch (outcome.kind) {
      case 'rotated':
        return toAgentDto(outcome.agent);
      case 'not_active':
        throw new ProblemException(HttpStatus.FORBIDDEN, 'Agent revoked', 'a revoked agent cannot rotate its keys');
      case 'key_changed':
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Keys changed',
          'the keys were rotated by another request meanwhile; sign with the current key',
        );
      case 'key_in_use':
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Key already enrolled',
          'this signing key is or was enrolled, and keys are never reused',
          [{ field: 'body.signingPublicKey', message: 'already enrolled' }],
        );
    }
  }

  async revoke(id: string, reason: string): Promise<AgentDto> {
    const outcome = await this.repository.revoke(id, reason.trim());
    switch (outcome.kind) {
      case 'revoked':
        return toAgentDto(outcome.agent);
      case 'not_found':
        throw new ProblemException(HttpStatus.NOT_FOUND, 'Agent not found', `no agent ${id}`);
      case 'already_revoked':
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Agent already revoked',
          `agent ${id} was revoked at ${outcome.agent.revokedAt?.toISOString()}`,
        );
    }
  }
}
