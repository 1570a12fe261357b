import { HttpStatus, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { base64ToBytes, type RequestRejection, readAgentIdHeader, verifyRequestSignature } from '@concord/crypto';
import type { Request } from 'express';
import type { AgentAuthenticator } from '../auth/roles';
import { ProblemException } from '../common/problem';
import { type AgentRecord, AgentsRepository } from './agents.repository';

/** Accepted request nonces are kept this long after the request's timestamp: twice the ±5-minute window. */
export const NONCE_RETENTION_MS = 10 * 60 * 1000;
const NONCE_CLEANUP_INTERVAL_MS = 60 * 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AGENT_PROBLEM = 'https://concord.dev/problems/agent-authentication';

/** The agent a signed request came from, as the route sees it on `req.agent`. */
export interface AuthenticatedAgent {
  kind: 'agent';
  id: string;
  institutionId: string;
  /** The key the request was verified with (base64). */
  signingPublicKey: string;
  record: AgentRecord;
}

export interface AgentRequest extends Request {
  agent?: AuthenticatedAgent;
  /** Set by the JSON body parser when the app is created with `rawBody: true`. */
  rawBody?: Buffer;
}

function refuse(status: HttpStatus, title: string, detail: string, field?: string): ProblemException {
  return new ProblemException(status, title, detail, field ? [{ field, message: detail }] : undefined, AGENT_PROBLEM);
}

function rejection(reason: RequestRejection): ProblemException {
  if (reason === 'stale_timestamp') {
    return refuse(
      HttpStatus.UNAUTHORIZED,
      'Stale request',
      'x-concord-timestamp is more than 5 minutes from the coordinator clock',
      'header.x-concord-timestamp',
    );
  }
  if (reason === 'bad_signature') {
    return refuse(
      HttpStatus.UNAUTHORIZED,
      'Bad request signature',
      'the signature does not verify under the agent’s current key',
      'header.x-concord-signature',
    );
  }
  const header = reason.slice('malformed_header:'.length);
  return refuse(HttpStatus.UNAUTHORIZED, 'Malformed signed request', `${header} is missing or malformed`, `header.${header}`);
}

/**
 * Verifies agent requests for the global RolesGuard (routes marked `@AgentAuth()`): the signature
 * over method, target, raw body hash, timestamp and nonce under the agent's current key; the
 * agent's status, read from the database on every request so a revocation takes effect at once on
 * every replica; then the nonce, recorded in Postgres so a replay is refused everywhere.
 */
@Injectable()
export class AgentRequestAuthenticator implements AgentAuthenticator, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('AgentRequestAuthenticator');
  private cleanup: NodeJS.Timeout | undefined;

  constructor(private readonly repository: AgentsRepository) {}

  onModuleInit(): void {
    this.cleanup = setInterval(() => void this.deleteExpiredNonces(), NONCE_CLEANUP_INTERVAL_MS);
    this.cleanup.unref();
  }

  onApplicationShutdown(): void {
    if (this.cleanup) clearInterval(this.cleanup);
  }

  async deleteExpiredNonces(): Promise<number> {
    try {
      return await this.repository.deleteExpiredNonces();
    } catch (err) {
      this.logger.warn({ err }, 'could not delete expired request nonces');
      return 0;
    }
  }

  async authenticate(req: Request): Promise<void> {
    const request = req as AgentRequest;
    const agentId = readAgentIdHeader(request.headers);
    if (agentId === undefined || !UUID.test(agentId)) {
      throw refuse(
        HttpStatus.UNAUTHORIZED,
        'Malformed signed request',
        'x-concord-agent must be an agent id (UUID)',
        'header.x-concord-agent',
      );
    }
    const agent = await this.repository.findAgent(agentId.toLowerCase());
    if (!agent) throw refuse(HttpStatus.UNAUTHORIZED, 'Unknown agent', 'no agent is enrolled with this id', 'header.x-concord-agent');

    // Express only captures bytes it parsed; a body it did not parse cannot be checked, so it is refused.
    const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
    if (hasBody && request.rawBody === undefined) {
      throw new ProblemException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'Unsupported media type',
        'signed agent requests carry JSON bodies (content-type: application/json)',
      );
    }
    const verification = verifyRequestSignature({
      method: request.method,
      path: request.originalUrl,
      body:
        request.rawBody === undefined
          ? undefined
          : new Uint8Array(request.rawBody.buffer, request.rawBody.byteOffset, request.rawBody.byteLength),
      headers: request.headers,
      publicKey: base64ToBytes(agent.signingPublicKey, 'agent.signingPublicKey', 32),
    });
    if (!verification.ok) throw rejection(verification.reason);
    if (agent.status !== 'active') {
      throw refuse(
        HttpStatus.FORBIDDEN,
        'Agent revoked',
        `this agent was revoked at ${agent.revokedAt?.toISOString() ?? 'an unknown time'}`,
      );
    }
    const fresh = await this.repository.recordNonce(agent.id, verification.nonce, new Date(verification.timestamp + NONCE_RETENTION_MS));
    if (!fresh)
      throw refuse(HttpStatus.UNAUTHORIZED, 'Replayed request', 'this nonce was already used by this agent', 'header.x-concord-nonce');
    request.agent = {
      kind: 'agent',
      id: agent.id,
      institutionId: agent.institutionId,
      signingPublicKey: agent.signingPublicKey,
      record: agent,
    };
  }
}
