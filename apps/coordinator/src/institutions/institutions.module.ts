import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { InstitutionsController } from './institutions.controller';
import { InstitutionsRepository } from './institutions.repository';
import { InstitutionsService } from './institutions.service';

@Module({
  imports: [LedgerModule],
  providers: [InstitutionsRepository, InstitutionsService],
  controllers: [InstitutionsController],
})
export class InstitutionsModule {}
