import { Module } from '@nestjs/common';
import { LedgerModule } from '../ledger/ledger.module';
import { StudentsModule } from '../students/students.module';
import { TasksModule } from '../tasks/tasks.module';
import { BatchesService } from './batches.service';
import { DataDependentService } from './data-dependent.service';
import { AgentBatchesController, JobsController } from './jobs.controller';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';
import { JobsSweeper } from './jobs.sweeper';

@Module({
  imports: [LedgerModule, TasksModule, StudentsModule],
  providers: [JobsRepository, JobsService, BatchesService, DataDependentService, JobsSweeper],
  controllers: [JobsController, AgentBatchesController],
  exports: [JobsService, BatchesService],
})
export class JobsModule {}
