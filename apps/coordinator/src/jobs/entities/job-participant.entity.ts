import { Check, Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { InstitutionEntity } from '../../institutions/entities/institution.entity';
import { JobEntity } from './job.entity';

@Entity({ name: 'job_participants' })
@Check('CHK_job_participants_status', `"status" IN ('active', 'exhausted')`)
@Check('CHK_job_participants_teachers', `"teachers" IS NULL OR "teachers" > 0`)
export class JobParticipantEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid', primaryKeyConstraintName: 'PK_job_participants' })
  jobId!: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id', foreignKeyConstraintName: 'FK_job_participants_job' })
  job?: JobEntity;

  @PrimaryColumn({ name: 'institution_id', type: 'uuid', primaryKeyConstraintName: 'PK_job_participants' })
  institutionId!: string;

  @ManyToOne(() => InstitutionEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'institution_id', foreignKeyConstraintName: 'FK_job_participants_institution' })
  institution?: InstitutionEntity;

  @Column({ type: 'text', default: 'active' }) status!: 'active' | 'exhausted';
  /** Teachers the institution declared with its first answer; every later answer must match. */
  @Column({ type: 'integer', nullable: true }) teachers!: number | null;
}
