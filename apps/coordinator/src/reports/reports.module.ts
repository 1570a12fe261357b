import { Module } from '@nestjs/common';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import { JobsModule } from '../jobs/jobs.module';
import { LedgerModule } from '../ledger/ledger.module';
import { LedgerVerificationService } from '../ledger/ledger-verification.service';
import { StudentsModule } from '../students/students.module';
import { ReportAccessGuard } from './report-access.guard';
import { ReportSessions } from './report-session';
import { ReportsController } from './reports.controller';
import { ReportsService } from './reports.service';

/** Server-rendered compliance reports and signed exports, over the same services as the JSON API. */
@Module({
  imports: [LedgerModule, JobsModule, StudentsModule],
  providers: [ReportsService, ReportSessions, ReportAccessGuard, ApiKeysRepository, LedgerVerificationService],
  controllers: [ReportsController],
})
export class ReportsModule {}
