import { type CanActivate, type ExecutionContext, HttpStatus, Inject, Injectable, Optional, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ProblemException } from '../common/problem';
import type { ApiRole } from './entities/api-key.entity';
import { type ApiPrincipal, ApiKeysService } from './api-keys.service';

const ROLES = 'concord:roles';
const PUBLIC = 'concord:public';
const AGENT_SIGNED = 'concord:agent-signed';

/** The roles allowed on a route. A route without @Roles or @Public is refused to everyone. */
export const Roles = (...roles: ApiRole[]): MethodDecorator & ClassDecorator => SetMetadata(ROLES, roles);
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(PUBLIC, true);
/** A route for agents, authenticated by their request signature instead of an API key (see `@AgentAuth()`). */
export const AgentSigned = (): MethodDecorator & ClassDecorator => SetMetadata(AGENT_SIGNED, true);

/** Verifies an agent's signed request (the agents module provides it); throws a ProblemException to refuse. */
export interface AgentAuthenticator {
  authenticate(req: Request): Promise<void>;
}
export const AGENT_AUTHENTICATOR = Symbol('AGENT_AUTHENTICATOR');

export interface AuthenticatedRequest extends Request {
  principal?: ApiPrincipal;
}

/** Global guard: deny by default; Bearer API keys for admin and compliance routes, signed requests for agent routes. */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeysService,
    @Optional() @Inject(AGENT_AUTHENTICATOR) private readonly agents?: AgentAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    if (this.reflector.getAllAndOverride<boolean>(AGENT_SIGNED, targets)) {
      if (!this.agents) throw new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthorized', 'agent requests are not accepted here');
      await this.agents.authenticate(context.switchToHttp().getRequest<Request>());
      return true;
    }
    const roles = this.reflector.getAllAndOverride<ApiRole[] | undefined>(ROLES, targets) ?? [];
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    const principal = match ? await this.apiKeys.authenticate(match[1]) : null;
    if (!principal) {
      throw new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthorized', 'a valid API key is required (Authorization: Bearer <key>)');
    }
    if (!roles.includes(principal.role)) {
      throw new ProblemException(HttpStatus.FORBIDDEN, 'Forbidden', `the ${principal.role} role may not use this route`);
    }
    req.principal = principal;
    return true;
  }
}
