import { Body, Controller, Get, HttpCode, HttpStatus, Inject, Param, Post, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { type AuthenticatedRequest, Public, Roles } from '../auth/roles';
import { uuidParam } from '../common/problem';
import type { AuthenticatedAgent } from './agent-authenticator';
import { AgentAuth, CurrentAgent } from './agent-auth.decorator';
import { AgentsService } from './agents.service';
import { COORDINATOR_KEYS, CoordinatorKeys } from './coordinator-keys';
import {
  AgentDetailDto,
  AgentDto,
  AgentSelfDto,
  CoordinatorIdentityDto,
  ListAgentsQueryDto,
  RevokeAgentDto,
  RotateKeysDto,
} from './dto/agent.dto';
import {
  CreateEnrollmentTokenDto,
  EnrollDto,
  EnrollmentResponseDto,
  EnrollmentTokenCreatedDto,
  EnrollmentTokenDto,
} from './dto/enrollment.dto';
import { EnrollmentRateLimitGuard } from './enrollment-rate-limit.guard';
import { EnrollmentService } from './enrollment.service';

@ApiTags('agents')
@Controller('institutions/:institutionId/enrollment-tokens')
export class EnrollmentTokensController {
  constructor(private readonly enrollment: EnrollmentService) {}

  @Post()
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Issue a one-time enrollment token for an agent of this institution (shown only in this response).' })
  @ApiCreatedResponse({ type: EnrollmentTokenCreatedDto })
  @ApiNotFoundResponse({ description: 'No such institution.' })
  @ApiConflictResponse({ description: 'The institution is suspended or revoked.' })
  create(
    @Param('institutionId', uuidParam('institutionId')) institutionId: string,
    @Body() body: CreateEnrollmentTokenDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<EnrollmentTokenCreatedDto> {
    return this.enrollment.createToken(institutionId, body.ttlSeconds, req.principal?.id ?? 'unknown');
  }

  @Get()
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The institution's enrollment tokens: ids, expiry and use, never the tokens themselves." })
  @ApiOkResponse({ type: [EnrollmentTokenDto] })
  list(@Param('institutionId', uuidParam('institutionId')) institutionId: string): Promise<EnrollmentTokenDto[]> {
    return this.enrollment.listTokens(institutionId);
  }
}

@ApiTags('agents')
@Controller('agents')
export class AgentsController {
  constructor(
    private readonly agents: AgentsService,
    private readonly enrollment: EnrollmentService,
    @Inject(COORDINATOR_KEYS) private readonly keys: CoordinatorKeys,
  ) {}

  @Post('enroll')
  @Public()
  @UseGuards(EnrollmentRateLimitGuard)
  @ApiOperation({ summary: 'Enroll an agent with a one-time token, its public keys and a proof of possession.' })
  @ApiCreatedResponse({ type: EnrollmentResponseDto })
  @ApiBadRequestResponse({ description: 'A malformed field or a proof that does not verify (problem+json naming the field).' })
  @ApiUnauthorizedResponse({ description: 'Unknown token.' })
  @ApiGoneResponse({ description: 'Token used or expired.' })
  @ApiConflictResponse({ description: 'The signing key is already enrolled.' })
  @ApiForbiddenResponse({ description: 'The institution is suspended or revoked.' })
  @ApiPayloadTooLargeResponse({ description: 'Body over 8 KiB.' })
  @ApiTooManyRequestsResponse({ description: 'Too many attempts from this address.' })
  enroll(@Body() body: EnrollDto): Promise<EnrollmentResponseDto> {
    return this.enrollment.enroll(body);
  }

  @Get('coordinator')
  @Public()
  @ApiOperation({ summary: "The coordinator's public keys and protocol version (compare the fingerprint out of band before enrolling)." })
  @ApiOkResponse({ type: CoordinatorIdentityDto })
  coordinator(): CoordinatorIdentityDto {
    return this.keys.identity();
  }

  // The /agents/me routes come before /agents/:id so that "me" is never taken for an id.
  @Get('me')
  @AgentAuth()
  @ApiOperation({ summary: "The calling agent's identity and institution (signed request)." })
  @ApiOkResponse({ type: AgentSelfDto })
  me(@CurrentAgent() agent: AuthenticatedAgent): Promise<AgentSelfDto> {
    return this.agents.self(agent);
  }

  @Post('me/keys/rotate')
  @HttpCode(HttpStatus.OK)
  @AgentAuth()
  @ApiOperation({ summary: 'Replace the calling agent’s keys: signed with the current key, proof by the new one.' })
  @ApiOkResponse({ type: AgentDto })
  @ApiBadRequestResponse({ description: 'A malformed field or a proof that does not verify.' })
  @ApiConflictResponse({ description: 'The new key is already enrolled, or the keys changed meanwhile.' })
  rotate(@CurrentAgent() agent: AuthenticatedAgent, @Body() body: RotateKeysDto): Promise<AgentDto> {
    return this.agents.rotate(agent, body);
  }

  @Get()
  @Roles('admin', 'compliance')
  @ApiBearerAuth()
  @ApiOkResponse({ type: [AgentDto] })
  list(@Query() query: ListAgentsQueryDto): Promise<AgentDto[]> {
    return this.agents.list({ institutionId: query.institutionId, status: query.status });
  }

  @Get(':id')
  @Roles('admin', 'compliance')
  @ApiBearerAuth()
  @ApiOkResponse({ type: AgentDetailDto, description: 'The agent with the history of its keys.' })
  @ApiNotFoundResponse()
  get(@Param('id', uuidParam('id')) id: string): Promise<AgentDetailDto> {
    return this.agents.get(id);
  }

  @Post(':id/revoke')
  @HttpCode(HttpStatus.OK)
  @Roles('admin')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke an agent: every request it signs is refused from now on, on every replica.' })
  @ApiOkResponse({ type: AgentDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'Already revoked.' })
  revoke(@Param('id', uuidParam('id')) id: string, @Body() body: RevokeAgentDto): Promise<AgentDto> {
    return this.agents.revoke(id, body.reason);
  }
}
