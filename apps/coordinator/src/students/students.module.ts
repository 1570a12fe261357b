import { Module } from '@nestjs/common';
import { JobsRepository } from '../jobs/jobs.repository';
import { TasksModule } from '../tasks/tasks.module';
import { StudentsController } from './students.controller';
import { StudentsRepository } from './students.repository';
import { StudentsService } from './students.service';

@Module({
  imports: [TasksModule],
  providers: [StudentsRepository, StudentsService, JobsRepository],
  controllers: [StudentsController],
  exports: [StudentsService],
})
export class StudentsModule {}
