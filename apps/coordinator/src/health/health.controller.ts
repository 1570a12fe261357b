import { Public } from '../auth/roles';
import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Response } from 'express';

export class HealthDto {
  @ApiProperty({ enum: ['ok', 'error'] })
  status!: 'ok' | 'error';

  @ApiProperty({ enum: ['up', 'down'] })
  db!: 'up' | 'down';
}

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
  ) {}

  @Get()
  @HttpCode(200)
  @ApiOkResponse({ type: HealthDto, description: 'The coordinator and its database are up.' })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'The database does not answer.' })
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    try {
      await this.health.check([() => this.database.pingCheck('db', { timeout: 2000 })]);
      return { status: 'ok', db: 'up' };
    } catch {
      res.status(503);
      return { status: 'error', db: 'down' };
    }
  }
}
