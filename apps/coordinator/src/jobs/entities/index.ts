import { StudentEntity } from '../../students/student.entity';
import { PoolExampleEntity } from '../../tasks/entities/pool-example.entity';
import { TaskEntity } from '../../tasks/entities/task.entity';
import { BatchEntity } from './batch.entity';
import { JobParticipantEntity } from './job-participant.entity';
import { JobEntity } from './job.entity';
import { ReleasedLabelEntity } from './released-label.entity';
import { SubmissionEntity } from './submission.entity';

export const JOB_ENTITIES = [
  TaskEntity,
  PoolExampleEntity,
  JobEntity,
  JobParticipantEntity,
  BatchEntity,
  SubmissionEntity,
  ReleasedLabelEntity,
  StudentEntity,
];
