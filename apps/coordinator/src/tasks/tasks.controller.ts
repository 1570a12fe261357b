import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { uuidParam } from '../common/problem';
import { CreateTaskDto, PoolUploadResultDto, TaskDto, UploadPoolDto } from './dto/task.dto';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: TaskDto })
  create(@Body() body: CreateTaskDto): Promise<TaskDto> {
    return this.tasks.create(body.name, body.inputSpec, body.classes);
  }

  @Get()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: [TaskDto] })
  list(): Promise<TaskDto[]> {
    return this.tasks.list();
  }

  @Get(':id')
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: TaskDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<TaskDto> {
    return this.tasks.get(id);
  }

  @Post(':id/pool')
  @Roles('admin')
  @ApiCreatedResponse({ type: PoolUploadResultDto, description: 'Examples appended to the public pool or the holdout (all or nothing).' })
  upload(@Param('id', uuidParam('id')) id: string, @Body() body: UploadPoolDto): Promise<PoolUploadResultDto> {
    return this.tasks.uploadFrom(id, body);
  }
}
