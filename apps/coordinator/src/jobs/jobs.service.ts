import { HttpStatus, Injectable } from '@nestjs/common';
import { DPA_ORDERS, epsilonOfTotal, rdpOfEvent } from '@concord/privacy';
import { InvalidInputException, ProblemException } from '../common/problem';
import { type Actor, CONVERSION, LedgerService } from '../ledger/ledger.service';
import type { InputSpec } from '../tasks/entities/task.entity';
import { featureCount, TasksService } from '../tasks/tasks.service';
import type { CreateJobDto, JobDto, ReleasedLabelDto, StudentSettingsDto } from './dto/job.dto';
import type { JobStatus, Mechanism, StudentSettings } from './entities/job.entity';
import { type JobRow, JobsRepository } from './jobs.repository';
import { parseMechanism, worstCaseEvent } from './mechanism';
import { poolExampleOf, resolveQuerySelection } from './query-selection';

/** Jobs as admins drive them: create (with the budget pre-check), start, pause, cancel, read. */
@Injectable()
export class JobsService {
  constructor(
    private readonly repository: JobsRepository,
    private readonly tasks: TasksService,
    private readonly ledger: LedgerService,
  ) {}

  async create(input: CreateJobDto, actor: Actor): Promise<JobDto> {
    const mechanism = parseMechanism(input.mechanism);
    const problems = [];
    if (new Set(input.participants).size !== input.participants.length)
      problems.push({ field: 'body.participants', message: 'lists an institution twice' });
    const evaluationQueries = input.evaluationQueries ?? 0;
    const total = input.queries + evaluationQueries;
    if (input.batchSize > total) problems.push({ field: 'body.batchSize', message: 'must not exceed queries + evaluationQueries' });
    if (problems.length) throw new InvalidInputException(problems);
    const task = await this.tasks.get(input.taskId);
    if (task.publicExamples < input.queries) {
      problems.push({ field: 'body.queries', message: `the task's public pool has only ${task.publicExamples} examples` });
    }
    if (task.holdoutExamples < evaluationQueries) {
      problems.push({ field: 'body.evaluationQueries', message: `the task's holdout has only ${task.holdoutExamples} labelled examples` });
    }
    if (problems.length) throw new InvalidInputException(problems);
    const studentSettings = resolveStudentSettings(input.student, task.inputSpec, mechanism);
    const selection = resolveQuerySelection(input.querySelection, input.queries);
    // Evaluation queries are asked and charged like any other: the worst case covers them all.
    const event = worstCaseEvent(mechanism, total);
    await this.checkBudgets(input.participants, event);
    const rdp = rdpOfEvent(event, DPA_ORDERS);
    // At the conversion new budgets are charged with (the exact one: the event is Gaussian).
    const worstCaseEpsilon = epsilonOfTotal(CONVERSION, DPA_ORDERS, rdp, input.delta).epsilon;
    const id = await this.repository.transaction((scope) =>
      this.repository.insertJob(
        scope,
        {
          taskId: input.taskId,
          mechanism,
          queries: total,
          evaluationQueries,
          batchSize: input.batchSize,
          batchDeadlineMs: input.batchDeadlineMs,
          minTeachers: input.minTeachers,
          delta: input.delta,
          worstCaseEpsilon,
          createdBy: `${actor.kind}:${actor.id}`,
          studentSettings,
          querySelection: selection?.setting ?? null,
          poolOrder: selection?.firstRound ?? null,
        },
        input.participants,
      ),
    );
    return this.get(id);
  }

  /** Refuses, naming each participant, a job whose worst case does not fit a remaining budget. */
  private async checkBudgets(participants: readonly string[], event: ReturnType<typeof worstCaseEvent>): Promise<void> {
    let previews;
    try {
      previews = await this.ledger.previewCharge(participants, event);
    } catch (err) {
      if (err instanceof ProblemException && err.getStatus() === 404) {
        throw new InvalidInputException([{ field: 'body.participants', message: err.detail ?? 'unknown institution' }]);
      }
      throw err;
    }
    const over = previews
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => !p.fits)
      .map(({ p, i }) => ({
        field: `body.participants[${i}]`,
        message:
          p.status !== 'active'
            ? `institution ${p.institutionId}: budget is ${p.status}`
            : `institution ${p.institutionId}: worst-case ε would reach ${p.epsilonAfter.toPrecision(4)} > cap ${p.epsilonCap} (spent ${p.epsilonSpent.toPrecision(4)}, δ ${p.delta})`,
      }));
    if (over.length) {
      throw new ProblemException(
        HttpStatus.CONFLICT,
        'Job exceeds a participant budget',
        'the job’s worst-case data-independent cost does not fit every participant’s remaining budget',
        over,
        'https://concord.dev/problems/budget-exceeded',
      );
    }
  }

  async start(id: string): Promise<JobDto> {
    const job = await this.mustFind(id);
    if (job.status === 'draft') {
      // Budgets may have changed since the job was created: check the worst case again.
      const participants = (await this.repository.participants(id)).map((p) => p.institutionId);
      await this.checkBudgets(participants, worstCaseEvent(job.mechanism, job.queries - job.released));
    }
    await this.repository.transaction(async (scope) => {
      const locked = (await this.repository.findJob(id, scope, true))!;
      if (!(await this.repository.setJobStatus(scope, id, ['draft', 'paused'], 'running')))
        throw this.badTransition(locked.status, 'start');
      const open = await scope.query(`SELECT 1 FROM batches WHERE job_id = $1 AND status = 'open'`, [id]);
      if (open.length === 0) await this.repository.openNextBatch(scope, locked);
    });
    return this.get(id);
  }

  async pause(id: string): Promise<JobDto> {
    const job = await this.mustFind(id);
    const ok = await this.repository.transaction((scope) => this.repository.setJobStatus(scope, id, ['running'], 'paused'));
    if (!ok) throw this.badTransition(job.status, 'pause');
    return this.get(id);
  }

  async cancel(id: string): Promise<JobDto> {
    const job = await this.mustFind(id);
    const ok = await this.repository.transaction(async (scope) => {
      const changed = await this.repository.setJobStatus(scope, id, ['draft', 'running', 'paused'], 'cancelled');
      if (changed) await this.repository.failOpenBatches(scope, id);
      return changed;
    });
    if (!ok) throw this.badTransition(job.status, 'cancel');
    return this.get(id);
  }

  async get(id: string): Promise<JobDto> {
    const job = await this.mustFind(id);
    return this.toDto(job);
  }

  async list(): Promise<JobDto[]> {
    return Promise.all((await this.repository.listJobs()).map((j) => this.toDto(j)));
  }

  async labels(id: string): Promise<ReleasedLabelDto[]> {
    const job = await this.mustFind(id);
    const poolQueries = job.queries - job.evaluationQueries;
    return (await this.repository.releasedLabels(id)).map((l) => ({
      ...l,
      ...(l.queryIndex < poolQueries
        ? { split: 'public' as const, exampleIndex: poolExampleOf(job, l.queryIndex) }
        : { split: 'holdout' as const, exampleIndex: l.queryIndex - poolQueries }),
    }));
  }

  private async toDto(job: JobRow): Promise<JobDto> {
    const [participants, charges] = await Promise.all([this.repository.participants(job.id), this.ledger.jobCharges(job.id)]);
    const byInstitution = new Map(charges.map((c) => [c.institutionId, c]));
    return {
      id: job.id,
      taskId: job.taskId,
      mechanism: job.mechanism,
      status: job.status,
      failure: job.failure,
      queries: job.queries - job.evaluationQueries,
      evaluationQueries: job.evaluationQueries,
      batchSize: job.batchSize,
      batchDeadlineMs: job.batchDeadlineMs,
      minTeachers: job.minTeachers,
      delta: job.delta,
      batched: job.nextQuery,
      released: job.released,
      answered: job.answered,
      worstCaseEpsilon: job.worstCaseEpsilon,
      epsilonDataDependentSanitized: job.epsilonDdSanitized,
      dataDependentNote: job.ddNote,
      student: studentSettingsOf(job.studentSettings, job.mechanism),
      querySelection: job.querySelection,
      poolQueriesChosen: job.poolOrder?.length ?? job.queries - job.evaluationQueries,
      participants: participants.map((p) => ({
        ...p,
        charges: byInstitution.get(p.institutionId)?.charges ?? 0,
        epsilonCharged: byInstitution.get(p.institutionId)?.epsilon ?? 0,
      })),
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }

  private async mustFind(id: string): Promise<JobRow> {
    const job = await this.repository.findJob(id);
    if (!job) throw new ProblemException(HttpStatus.NOT_FOUND, 'Job not found', `no job ${id}`);
    return job;
  }

  private badTransition(status: JobStatus, action: string): ProblemException {
    return new ProblemException(HttpStatus.CONFLICT, 'Invalid job state', `a ${status} job cannot ${action}`);
  }
}

/** The defaults of a job's student: an MLP on the task's inputs with pseudo-labelling. */
export const DEFAULT_STUDENT: StudentSettings = {
  features: 'input',
  pcaComponents: null,
  hidden: [256],
  epochs: 40,
  semiSupervised: true,
  temperature: null,
};

/**
 * The default distillation temperature of a soft-label job: σ/4 of its noise, on the scale of the
 * released sums. Measured on Fashion-MNIST (250 teachers, σ 80–160; BENCHMARKS "Utility / Session
 * 5"): students were best at T between σ/8 and σ/2, and 4–5 points worse at T = 1, where
 * softmax(sums) is the one-hot noisy argmax.
 */
export function defaultTemperature(mechanism: Mechanism): number | null {
  return mechanism.kind === 'gaussian_soft_labels' ? mechanism.sigma / 4 : null;
}

/** A job's stored student settings with every field present (settings stored before `temperature` existed get its default). */
export function studentSettingsOf(stored: StudentSettings | null, mechanism: Mechanism): Required<StudentSettings> {
  const settings = stored ?? DEFAULT_STUDENT;
  return { ...settings, temperature: settings.temperature ?? defaultTemperature(mechanism) };
}

/** Fills in defaults and checks the settings against the task's inputs and the job's mechanism. */
export function resolveStudentSettings(
  input: StudentSettingsDto | undefined,
  inputSpec: InputSpec,
  mechanism: Mechanism,
): Required<StudentSettings> {
  if (input?.temperature !== undefined && mechanism.kind !== 'gaussian_soft_labels') {
    throw new InvalidInputException([
      { field: 'body.student.temperature', message: 'only for gaussian_soft_labels jobs (hard labels have no temperature)' },
    ]);
  }
  const features = input?.features ?? DEFAULT_STUDENT.features;
  const width = featureCount(inputSpec);
  if (input?.pcaComponents !== undefined && features === 'input') {
    throw new InvalidInputException([{ field: 'body.student.pcaComponents', message: 'only with features "pca" or "edges"' }]);
  }
  if (features === 'edges' && imageShapeOf(inputSpec) === null) {
    throw new InvalidInputException([
      { field: 'body.student.features', message: '"edges" needs an image task with one channel (shape [h, w] or [h, w, 1])' },
    ]);
  }
  const pcaComponents = features === 'input' ? null : (input?.pcaComponents ?? (features === 'edges' ? 100 : Math.min(50, width)));
  if (features === 'pca' && pcaComponents !== null && pcaComponents > width) {
    throw new InvalidInputException([
      { field: 'body.student.pcaComponents', message: `must not exceed the task's ${width} input features` },
    ]);
  }
  return {
    features,
    pcaComponents,
    hidden: input?.hidden ?? [...DEFAULT_STUDENT.hidden],
    epochs: input?.epochs ?? DEFAULT_STUDENT.epochs,
    semiSupervised: input?.semiSupervised ?? DEFAULT_STUDENT.semiSupervised,
    temperature: input?.temperature ?? defaultTemperature(mechanism),
  };
}

/** [h, w] of a one-channel image task, or null. */
export function imageShapeOf(spec: InputSpec): [number, number] | null {
  if (spec.kind !== 'image') return null;
  const [h, w, c] = spec.shape;
  if (spec.shape.length === 2 || (spec.shape.length === 3 && c === 1)) return [h, w];
  return null;
}
