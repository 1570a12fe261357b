import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/roles';
import { CalibrateDto, CalibrationDto } from './dto/calibrate.dto';
import { PlanningService } from './planning.service';

@ApiTags('privacy planning')
@ApiBearerAuth()
@Controller('privacy')
export class PlanningController {
  constructor(private readonly planning: PlanningService) {}

  @Post('calibrate')
  @HttpCode(200)
  @Roles('admin', 'compliance')
  @ApiOkResponse({
    type: CalibrationDto,
    description: 'The smallest noise for which the planned queries cost at most ε at δ, data-independently.',
  })
  calibrate(@Body() body: CalibrateDto): CalibrationDto {
    return this.planning.calibrate(body);
  }
}
