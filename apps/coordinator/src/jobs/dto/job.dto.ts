import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsUUID,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export class QuerySelectionDto {
  @ApiProperty({ enum: ['student_margin'], example: 'student_margin' })
  @IsIn(['student_margin'])
  kind!: 'student_margin';

  @ApiProperty({
    example: 5,
    description:
      'Rounds the pool queries are asked in (equal parts). The first round asks the first pool examples; before each later round the coordinator trains a student on everything released so far and asks the unasked pool examples whose top-two probability margin is closest to targetMargin. No privacy cost (post-processing of released labels); each round waits for that student.',
  })
  @IsInt()
  @Min(2)
  @Max(20)
  rounds!: number;

  @ApiProperty({ required: false, example: 0.5, description: 'Margin sought, in (0, 1); default 0.5.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(0.99)
  targetMargin?: number;
}

export class StudentSettingsDto {
  @ApiProperty({
    required: false,
    enum: ['input', 'pca', 'edges'],
    example: 'edges',
    description:
      'What the student learns on: the task inputs (default); a PCA of the public pool; or, for image tasks, oriented edge energy then PCA. Fitted on the public pool (no privacy cost) and baked into the saved model.',
  })
  @IsOptional()
  @IsIn(['input', 'pca', 'edges'])
  features?: 'input' | 'pca' | 'edges';

  @ApiProperty({
    required: false,
    example: 50,
    description:
      'PCA components (with features "pca" or "edges"); default 50 for "pca", 100 for "edges", at most the input width for "pca".',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(4096)
  pcaComponents?: number;

  @ApiProperty({ required: false, type: [Number], example: [256], description: 'Hidden layer widths of the MLP student; default [256].' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(4)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(4096, { each: true })
  hidden?: number[];

  @ApiProperty({ required: false, example: 40, description: 'Training epochs; default 40.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(500)
  epochs?: number;

  @ApiProperty({ required: false, example: true, description: 'Pseudo-label the unlabelled pool (no privacy cost); default true.' })
  @IsOptional()
  @IsBoolean()
  semiSupervised?: boolean;

  @ApiProperty({
    required: false,
    example: 30,
    description:
      'gaussian_soft_labels jobs only: the distillation temperature T, on the scale of the released noisy sums (the student learns softmax(sums / T)). Default σ/4 of the mechanism: at T = 1 the targets of sums over hundreds of teachers collapse to the noisy argmax.',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.001)
  @Max(1_000_000)
  temperature?: number;
}

export class StudentSettingsViewDto {
  @ApiProperty({ enum: ['input', 'pca', 'edges'] }) features!: 'input' | 'pca' | 'edges';
  @ApiProperty({ nullable: true, type: Number }) pcaComponents!: number | null;
  @ApiProperty({ type: [Number] }) hidden!: number[];
  @ApiProperty() epochs!: number;
  @ApiProperty() semiSupervised!: boolean;
  @ApiProperty({ nullable: true, type: Number, description: 'Distillation temperature of a gaussian_soft_labels job; null otherwise.' })
  temperature!: number | null;
}

export class CreateJobDto {
  @ApiProperty({ format: 'uuid', example: '3f2b8c1e-9d4a-4e5f-8a6b-7c8d9e0f1a2b', description: 'The task whose public pool is labelled.' })
  @IsUUID()
  taskId!: string;

  @ApiProperty({
    example: { kind: 'confident_gnmax', threshold: 200, sigma1: 150, sigma2: 40 },
    description:
      'One of {kind:"gnmax", sigma}, {kind:"confident_gnmax", threshold, sigma1, sigma2} or {kind:"gaussian_soft_labels", sigma, clipNorm, teacherOutput?}. Soft labels sum each teacher\'s probability vector clipped to L2 norm clipNorm (teacherOutput "probabilities", the default) or its one-hot vote (teacherOutput "votes", clipNorm 1): the released sums are then the noisy vote histogram.',
  })
  @IsObject()
  mechanism!: Record<string, unknown>;

  @ApiProperty({ type: [String], example: ['6f1c2d0e-8a7b-4c3d-9e2f-1a2b3c4d5e6f'], description: 'Participating institutions.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  participants!: string[];

  @ApiProperty({
    example: 640,
    description: 'Pool queries to ask: the first `queries` examples of the public pool, or as many chosen by `querySelection`.',
  })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  queries!: number;

  @ApiProperty({
    required: false,
    example: 200,
    description:
      'Evaluation queries: this many examples of the task’s labelled holdout are asked after the pool queries, through the same mechanism and charged like them, so that the released labels’ accuracy and the student-to-ensemble ratio can be measured (GET /jobs/{id}/student). Their labels are never given to the student. Default 0.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  evaluationQueries?: number;

  @ApiProperty({ example: 64 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  batchSize!: number;

  @ApiProperty({ example: 60_000, description: 'Milliseconds agents have to answer a batch before it is aggregated with those present.' })
  @IsInt()
  @Min(100)
  @Max(86_400_000)
  batchDeadlineMs!: number;

  @ApiProperty({ example: 30, description: 'A batch is aggregated only if at least this many teachers answered.' })
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  minTeachers!: number;

  @ApiProperty({ example: 1e-5, description: 'δ at which the job’s own ε is reported.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1e-15)
  @Max(0.1)
  delta!: number;

  @ApiProperty({
    required: false,
    type: StudentSettingsDto,
    example: { features: 'edges', pcaComponents: 100, hidden: [256], epochs: 40, semiSupervised: false },
    description: 'How the student is trained when the job completes; defaults if absent.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => StudentSettingsDto)
  student?: StudentSettingsDto;

  @ApiProperty({
    required: false,
    type: QuerySelectionDto,
    example: { kind: 'student_margin', rounds: 5, targetMargin: 0.5 },
    description: 'Ask the pool queries in rounds chosen by a student; absent: the first `queries` pool examples.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuerySelectionDto)
  querySelection?: QuerySelectionDto;
}

export class JobParticipantDto {
  @ApiProperty() institutionId!: string;
  @ApiProperty() institutionName!: string;
  @ApiProperty({ enum: ['active', 'exhausted'] }) status!: string;
  @ApiProperty({ nullable: true, type: Number }) teachers!: number | null;
  @ApiProperty({ description: 'Charges this job made to the institution.' }) charges!: number;
  @ApiProperty({ description: 'ε of this job’s charges alone, at the institution’s δ (data-independent).' }) epsilonCharged!: number;
}

export class JobDto {
  @ApiProperty() id!: string;
  @ApiProperty() taskId!: string;
  @ApiProperty() mechanism!: unknown;
  @ApiProperty({ enum: ['draft', 'running', 'paused', 'cancelled', 'completed', 'failed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String }) failure!: string | null;
  @ApiProperty({ description: 'Pool queries asked (as given at creation).' }) queries!: number;
  @ApiProperty({ description: 'Holdout examples asked after the pool queries, to measure the released labels (as given at creation).' })
  evaluationQueries!: number;
  @ApiProperty() batchSize!: number;
  @ApiProperty() batchDeadlineMs!: number;
  @ApiProperty() minTeachers!: number;
  @ApiProperty() delta!: number;
  @ApiProperty({ description: 'Queries put into batches so far (of queries + evaluationQueries).' }) batched!: number;
  @ApiProperty({ description: 'Queries whose outcome was released (answered or not).' }) released!: number;
  @ApiProperty({ description: 'Released queries that received a label.' }) answered!: number;
  @ApiProperty({
    description:
      'ε of the whole job if every query were asked and answered (data-independent, at δ, with the exact Gaussian conversion budgets are charged with).',
  })
  worstCaseEpsilon!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description:
      'Data-dependent ε (Scalable PATE) of the run, published once at job end after sanitisation with smooth sensitivity (its own cost included), converted from RDP with the improved conversion (no exact conversion exists for it). Not what budgets are charged.',
  })
  epsilonDataDependentSanitized!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'Why no data-dependent figure was published, if none was.' })
  dataDependentNote!: string | null;
  @ApiProperty({ type: () => StudentSettingsViewDto, description: 'How the student is (or will be) trained, every field resolved.' })
  student!: StudentSettingsViewDto;
  @ApiProperty({
    type: QuerySelectionDto,
    nullable: true,
    description: 'How pool queries are chosen (null: the first `queries` pool examples).',
  })
  querySelection!: { kind: 'student_margin'; rounds: number; targetMargin: number } | null;
  @ApiProperty({ description: 'Pool queries whose example is chosen so far (all of them without query selection).' })
  poolQueriesChosen!: number;
  @ApiProperty({ type: [JobParticipantDto] }) participants!: JobParticipantDto[];
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ nullable: true, type: Date }) startedAt!: Date | null;
  @ApiProperty({ nullable: true, type: Date }) finishedAt!: Date | null;
}

export class ReleasedLabelDto {
  @ApiProperty({ description: 'The job’s query number: pool queries first, then the evaluation queries.' }) queryIndex!: number;
  @ApiProperty({
    enum: ['public', 'holdout'],
    description: 'Which split the example comes from: the pool, or the holdout (an evaluation query).',
  })
  split!: 'public' | 'holdout';
  @ApiProperty({ description: 'The example’s index in its split (for pool queries of a job with query selection, the example chosen).' })
  exampleIndex!: number;
  @ApiProperty() answered!: boolean;
  @ApiProperty({ nullable: true, type: Number }) label!: number | null;
  @ApiProperty({ nullable: true, type: [Number] }) soft!: number[] | null;
}
