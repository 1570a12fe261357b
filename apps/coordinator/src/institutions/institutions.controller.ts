import { Body, Controller, Get, Param, Post, Req } from '@nestjs/common';
import { uuidParam } from '../common/problem';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedRequest, Roles } from '../auth/roles';
import { actorOf } from '../ledger/ledger.controller';
import { CreateInstitutionDto, InstitutionDto } from './dto/institution.dto';
import { InstitutionsService } from './institutions.service';

@ApiTags('institutions')
@ApiBearerAuth()
@Controller('institutions')
export class InstitutionsController {
  constructor(private readonly institutions: InstitutionsService) {}

  @Post()
  @Roles('admin')
  @ApiCreatedResponse({ type: InstitutionDto, description: 'The institution, with its privacy budget opened in the ledger.' })
  create(@Body() body: CreateInstitutionDto, @Req() req: AuthenticatedRequest): Promise<InstitutionDto> {
    return this.institutions.create(body, actorOf(req));
  }

  @Get()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: [InstitutionDto] })
  list(): Promise<InstitutionDto[]> {
    return this.institutions.list();
  }

  @Get(':id')
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: InstitutionDto })
  get(@Param('id', uuidParam('id')) id: string): Promise<InstitutionDto> {
    return this.institutions.get(id);
  }
}
