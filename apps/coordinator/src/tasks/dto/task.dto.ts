import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Length, Min } from 'class-validator';

export class CreateTaskDto {
  @ApiProperty({ example: 'fashion-mnist' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({
    example: { kind: 'image', shape: [28, 28, 1], scale: 255 },
    description:
      'Either {kind:"image", shape:[h,w,c], scale?} (features are the pixels, divided by scale) or {kind:"tabular", features:[{name, mean?, std?}]} (normalised as (x-mean)/std).',
  })
  @IsObject()
  inputSpec!: Record<string, unknown>;

  @ApiProperty({ example: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @Length(1, 200, { each: true })
  classes!: string[];
}

export class UploadPoolDto {
  @ApiProperty({
    enum: ['public', 'holdout'],
    example: 'public',
    description: 'public: unlabelled queries; holdout: labelled examples for the student owner’s evaluation.',
  })
  @IsIn(['public', 'holdout'])
  split!: 'public' | 'holdout';

  @ApiProperty({
    required: false,
    enum: ['json', 'idx', 'csv'],
    example: 'json',
    description: 'How the examples are given (default json).',
  })
  @IsOptional()
  @IsIn(['json', 'idx', 'csv'])
  format?: 'json' | 'idx' | 'csv';

  @ApiProperty({
    required: false,
    example: [[0, 0.5, 1]],
    description: 'json: one feature vector per example, in the order of the input spec.',
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20_000)
  examples?: number[][];

  @ApiProperty({
    required: false,
    example: 'H4sIAAAAAAAAA…',
    description: 'idx: the images (or feature) IDX file, plain or gzipped, base64.',
  })
  @IsOptional()
  @IsString()
  images?: string;

  @ApiProperty({
    required: false,
    example: 'H4sIAAAAAAAAA…',
    description: 'idx, holdout only: the labels IDX file, plain or gzipped, base64.',
  })
  @IsOptional()
  @IsString()
  labelsIdx?: string;

  @ApiProperty({
    required: false,
    example: 'age,income,label\n41,52000,1\n',
    description: 'csv: text with a header naming the task’s features (and the label column for a holdout).',
  })
  @IsOptional()
  @IsString()
  csv?: string;

  @ApiProperty({ required: false, example: 'label', description: 'csv, holdout only: header of the label column (default "label").' })
  @IsOptional()
  @IsString()
  labelColumn?: string;

  @ApiProperty({ required: false, example: [3], description: 'holdout only: one class index per example.' })
  @IsOptional()
  @IsArray()
  @IsInt({ each: true })
  @Min(0, { each: true })
  labels?: number[];
}

export class TaskDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() inputSpec!: unknown;
  @ApiProperty({ type: [String] }) classes!: string[];
  @ApiProperty({ description: 'Examples in the public pool.' }) publicExamples!: number;
  @ApiProperty({ description: 'Labelled holdout examples.' }) holdoutExamples!: number;
  @ApiProperty() createdAt!: Date;
}

export class PoolUploadResultDto {
  @ApiProperty() split!: string;
  @ApiProperty({ description: 'Examples added by this upload.' }) added!: number;
  @ApiProperty({ description: 'Examples in the split after the upload.' }) total!: number;
}
