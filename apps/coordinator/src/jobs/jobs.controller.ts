import { Body, Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AgentAuth, CurrentAgent } from '../agents/agent-auth.decorator';
import type { AuthenticatedAgent } from '../agents/agent-authenticator';
import { type AuthenticatedRequest, Roles } from '../auth/roles';
import { uuidParam } from '../common/problem';
import { actorOf } from '../ledger/ledger.controller';
import { BatchesService } from './batches.service';
import { AnswerReceiptDto, BatchAnswerDto, BatchAssignmentDto } from './dto/answer.dto';
import { CreateJobDto, JobDto, ReleasedLabelDto } from './dto/job.dto';
import { JobsService } from './jobs.service';

@ApiTags('jobs')
@ApiBearerAuth()
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({
    type: JobDto,
    description: 'A draft job; refused (409) if its worst-case cost exceeds a participant’s remaining budget.',
  })
  create(@Body() body: CreateJobDto, @Req() req: AuthenticatedRequest): Promise<JobDto> {
    return this.jobs.create(body, actorOf(req));
  }

  @Get()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: [JobDto] })
  list(): Promise<JobDto[]> {
    return this.jobs.list();
  }

  @Get(':id')
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: JobDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<JobDto> {
    return this.jobs.get(id);
  }

  @Post(':id/start')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: JobDto, description: 'Starts (or resumes) the job; budgets are checked again first.' })
  start(@Param('id', uuidParam('id')) id: string): Promise<JobDto> {
    return this.jobs.start(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: JobDto })
  pause(@Param('id', uuidParam('id')) id: string): Promise<JobDto> {
    return this.jobs.pause(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('admin')
  @ApiOkResponse({ type: JobDto })
  cancel(@Param('id', uuidParam('id')) id: string): Promise<JobDto> {
    return this.jobs.cancel(id);
  }

  @Get(':id/labels')
  @Roles('admin')
  @ApiOkResponse({ type: [ReleasedLabelDto], description: 'Released labels (each written in the transaction that charged it).' })
  labels(@Param('id', uuidParam('id')) id: string): Promise<ReleasedLabelDto[]> {
    return this.jobs.labels(id);
  }
}

@ApiTags('agent protocol')
@Controller('agent/batches')
export class AgentBatchesController {
  constructor(private readonly batches: BatchesService) {}

  @Get('next')
  @AgentAuth()
  @ApiOkResponse({ type: BatchAssignmentDto, description: 'The next batch this institution should answer.' })
  @ApiNoContentResponse({ description: 'Nothing to answer now.' })
  async next(
    @CurrentAgent() agent: AuthenticatedAgent,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BatchAssignmentDto | undefined> {
    const assignment = await this.batches.next(agent);
    if (!assignment) {
      res.status(204);
      return undefined;
    }
    return assignment;
  }

  @Post(':batchId/answers')
  @HttpCode(202)
  @AgentAuth()
  @ApiAcceptedResponse({ type: AnswerReceiptDto, description: 'Stored sealed, to be aggregated with the other institutions’ answers.' })
  answer(
    @CurrentAgent() agent: AuthenticatedAgent,
    @Param('batchId', uuidParam('batchId')) batchId: string,
    @Body() body: BatchAnswerDto,
  ): Promise<AnswerReceiptDto> {
    return this.batches.submit(agent, batchId, body);
  }
}
