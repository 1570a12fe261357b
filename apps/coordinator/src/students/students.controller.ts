import { Controller, Get, Header, Param, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { uuidParam } from '../common/problem';
import { StudentsService } from './students.service';

export class StudentDto {
  @ApiProperty() jobId!: string;
  @ApiProperty({ enum: ['queued', 'training', 'ready', 'failed'] }) status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String, description: 'tfjs backend it was trained on.' }) backend!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Parameters of the student (its size: a proxy for inference cost).' })
  parameters!: number | null;
  @ApiProperty({
    nullable: true,
    description:
      'labelled, pseudoLabelled, agreementWithReleased, holdoutAccuracy (on the task holdout), samples, elapsedMs, finalLoss; evaluation: the released labels of the job’s evaluation queries against the holdout’s labels (queries, answered, labelAccuracy, studentAccuracy on the same examples, studentToEnsembleAccuracy, note); inference: studentParameters, ensembleTeachers (as the agents declared at enrolment), ensembleInstitutions, modelEvaluationsPerPrediction.',
  })
  metrics!: unknown;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt!: Date | null;
}

@ApiTags('students')
@ApiBearerAuth()
@Controller('jobs/:id/student')
export class StudentsController {
  constructor(private readonly students: StudentsService) {}

  @Get()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: StudentDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<StudentDto> {
    return this.students.get(id);
  }

  @Get('model.json')
  @Roles('admin')
  @ApiOkResponse({
    description: 'tfjs model.json (tfjs-node layout); its manifest names weights.bin beside it.',
    schema: {
      type: 'object',
      properties: { modelTopology: { type: 'object' }, weightsManifest: { type: 'array', items: { type: 'object' } } },
    },
  })
  async modelJson(@Param('id', uuidParam('id')) id: string): Promise<unknown> {
    return (await this.students.artifacts(id)).modelJson;
  }

  @Get('weights.bin')
  @Roles('admin')
  @Header('content-type', 'application/octet-stream')
  @ApiOkResponse({ description: 'The student’s weights, as model.json’s manifest describes them.' })
  async weights(@Param('id', uuidParam('id')) id: string): Promise<StreamableFile> {
    return new StreamableFile((await this.students.artifacts(id)).weights);
  }
}
