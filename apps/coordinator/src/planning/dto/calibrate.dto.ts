import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsInt, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';

export const CALIBRATABLE = ['gnmax', 'confident_gnmax', 'gaussian_soft_labels'] as const;
export type CalibratableMechanism = (typeof CALIBRATABLE)[number];

export class CalibrateDto {
  @ApiProperty({ enum: CALIBRATABLE, example: 'confident_gnmax' })
  @IsIn(CALIBRATABLE)
  mechanism!: CalibratableMechanism;

  @ApiProperty({ example: 1000, description: 'Planned number of queries (for Confident-GNMax: queries asked).' })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  queries!: number;

  @ApiProperty({ example: 2, description: 'Target ε (natural log) for the whole job, data-independent.' })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1e-6)
  @Max(1000)
  epsilon!: number;

  @ApiProperty({ example: 1e-5 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1e-15)
  @Max(0.1)
  delta!: number;

  @ApiProperty({ required: false, example: 3.75, description: 'Confident-GNMax only: σ1/σ2 (default 3.75, as T=200, σ1=150, σ2=40).' })
  @ValidateIf((o: CalibrateDto) => o.ratio !== undefined)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(1000)
  ratio?: number;

  @ApiProperty({ required: false, example: 400, description: 'Confident-GNMax only: at most this many queries answered (default: all).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  answered?: number;

  @ApiProperty({
    required: false,
    example: 1,
    description: 'Soft labels only: L2 clipping norm C of each teacher’s probability vector (default 1).',
  })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(1e-6)
  @Max(1e6)
  clipNorm?: number;
}

export class CalibrationDto {
  @ApiProperty({ enum: CALIBRATABLE }) mechanism!: CalibratableMechanism;
  @ApiProperty({ required: false, description: 'GNMax σ, or the soft-label noise σ (probability-mass units).' }) sigma?: number;
  @ApiProperty({ required: false }) sigma1?: number;
  @ApiProperty({ required: false }) sigma2?: number;
  @ApiProperty({ description: 'ε the calibrated σ actually costs for the planned queries (≤ the target).' }) epsilon!: number;
  @ApiProperty() delta!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'The RDP order of the conversion; null under the exact Gaussian conversion.' })
  optimalOrder!: number | null;
  @ApiProperty({ example: 'rdp, data-independent, a composition of Gaussian mechanisms / exact analytic-Gaussian conversion' })
  accounting!: string;
}
