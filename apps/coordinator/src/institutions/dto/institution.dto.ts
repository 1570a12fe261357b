import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';

export class CreateInstitutionDto {
  @ApiProperty({ example: 'St. Mary Hospital', description: 'Unique display name (1–200 characters).' })
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'name must not be blank' })
  name!: string;

  @ApiProperty({ example: 4, description: "ε cap of the institution's privacy budget (natural-log units)." })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1000)
  epsilonCap!: number;

  @ApiProperty({ example: 1e-6, description: 'δ at which ε is computed and capped; fixed for the life of the budget.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1e-15)
  @Max(0.1)
  delta!: number;

  @ApiProperty({ required: false, example: 'consortium agreement 2026-11', description: 'Why the budget is opened with this cap.' })
  @IsOptional()
  @IsString()
  @Length(0, 2000)
  reason?: string;
}

export class InstitutionDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['pending', 'active', 'suspended', 'revoked'] }) status!: string;
  @ApiProperty() createdAt!: Date;
}
