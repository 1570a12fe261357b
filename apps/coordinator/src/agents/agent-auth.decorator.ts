import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiForbiddenResponse, ApiHeader, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AGENT_HEADER, NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@concord/crypto';
import { AgentSigned } from '../auth/roles';
import type { AgentRequest, AuthenticatedAgent } from './agent-authenticator';

/**
 * A route for enrolled agents: the request must be signed (libs/crypto request signing, see
 * libs/protocol `signedFetch`); the global guard verifies it and puts the agent on `req.agent`.
 */
export function AgentAuth(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    AgentSigned(),
    ApiHeader({ name: AGENT_HEADER, required: true, description: 'The agent id returned by enrollment.' }),
    ApiHeader({ name: TIMESTAMP_HEADER, required: true, description: 'Milliseconds since the Unix epoch; refused beyond ±5 minutes.' }),
    ApiHeader({ name: NONCE_HEADER, required: true, description: '16–128 base64url characters, never reused.' }),
    ApiHeader({
      name: SIGNATURE_HEADER,
      required: true,
      description: 'base64url Ed25519 signature of concord-request-v1 (agent id, method, path, body SHA-256, timestamp, nonce).',
    }),
    ApiUnauthorizedResponse({ description: 'Missing, malformed, stale, replayed or wrongly signed request (problem+json).' }),
    ApiForbiddenResponse({ description: 'The agent is revoked (problem+json).' }),
  );
}

/** The agent that signed the request (only on `@AgentAuth()` routes). */
export const CurrentAgent = createParamDecorator((_data: unknown, context: ExecutionContext): AuthenticatedAgent => {
  const agent = context.switchToHttp().getRequest<AgentRequest>().agent;
  if (!agent) throw new Error('CurrentAgent used on a route without @AgentAuth()');
  return agent;
});
