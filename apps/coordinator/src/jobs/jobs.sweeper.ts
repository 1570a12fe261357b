import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BatchesService } from './batches.service';
import { StudentsService } from '../students/students.service';
import { DataDependentService } from './data-dependent.service';
import { JobsRepository } from './jobs.repository';

const SWEEP_INTERVAL_MS = 500;

/**
 * Aggregates batches that are due — complete, or past their deadline — whatever happened to the
 * request that should have triggered it (a crash, a restart, another replica's failure). All the
 * state it needs is in Postgres.
 */
@Injectable()
export class JobsSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('JobsSweeper');
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly jobs: JobsRepository,
    private readonly batches: BatchesService,
    private readonly dataDependent: DataDependentService,
    private readonly students: StudentsService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const id of await this.jobs.dueBatches()) await this.batches.tryAggregate(id);
      // A coordinator that stopped between a job's last batch and its data-dependent figure.
      for (const id of await this.jobs.jobsAwaitingDataDependent()) await this.dataDependent.publish(id);
      // Student training runs in a worker thread; do not hold the sweep for it.
      void this.students.trainNext().catch((err: unknown) => this.logger.error({ err }, 'student training failed'));
    } catch (err) {
      this.logger.error({ err }, 'sweep failed');
    } finally {
      this.running = false;
    }
  }
}
