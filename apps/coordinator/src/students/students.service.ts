import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { type Dataset, type FittedFeatures, type ReleasedLabels, trainStudentInWorker } from '@concord/ml';
import { argmax } from '../aggregation/mechanisms';
import { ProblemException } from '../common/problem';
import { type JobRow, JobsRepository } from '../jobs/jobs.repository';
import { imageShapeOf, studentSettingsOf } from '../jobs/jobs.service';
import { chooseByMargin, poolExampleOf, roundSize } from '../jobs/query-selection';
import type { Mechanism, StudentSettings } from '../jobs/entities/job.entity';
import type { InputSpec } from '../tasks/entities/task.entity';
import { featureCount } from '../tasks/tasks.service';
import { TasksRepository } from '../tasks/tasks.repository';
import { type StudentRow, StudentsRepository } from './students.repository';

/** Student training settings that jobs do not choose (one student per job; see StudentSettings). */
export const STUDENT_TRAINING = { batchSize: 64, pseudoLabel: { threshold: 0.9, weight: 0.5 } };

/** The normalisation the task's input spec declares, applied to stored features. */
export function normaliser(spec: InputSpec): (features: readonly number[], out: Float32Array, offset: number) => void {
  if (spec.kind === 'image') {
    const scale = spec.scale ?? 1;
    return (f, out, o) => f.forEach((v, i) => (out[o + i] = v / scale));
  }
  const mean = spec.features.map((f) => f.mean ?? 0);
  const std = spec.features.map((f) => f.std ?? 1);
  return (f, out, o) => f.forEach((v, i) => (out[o + i] = (v - mean[i]) / std[i]));
}

/**
 * What the student learns from: for soft-label jobs every released row, as noisy sums distilled at
 * the job's temperature; otherwise the answered queries' labels. `position` maps a pool query index
 * to its row in the pool the student is given.
 */
export function studentTargets(
  mechanism: Mechanism,
  settings: Required<StudentSettings>,
  released: readonly { queryIndex: number; answered: boolean; label: number | null; soft: number[] | null }[],
  position: ReadonlyMap<number, number>,
): ReleasedLabels {
  if (mechanism.kind === 'gaussian_soft_labels') {
    if (settings.temperature === null) throw new Error('a soft-label job needs a distillation temperature');
    return {
      kind: 'soft',
      indices: Int32Array.from(released.map((l) => position.get(l.queryIndex)!)),
      noisyScores: Float32Array.from(released.flatMap((l) => l.soft ?? [])),
      temperature: settings.temperature,
    };
  }
  const used = released.filter((l) => l.answered && l.label !== null);
  return {
    kind: 'hard',
    indices: Int32Array.from(used.map((l) => position.get(l.queryIndex)!)),
    labels: Int32Array.from(used.map((l) => l.label!)),
  };
}

/**
 * Trains the student of a completed job from its released labels and the whole public pool
 * (semi-supervised use of unlabelled inputs costs no privacy), in a worker thread, and keeps the
 * model (tfjs layout) and its holdout metrics in Postgres so that any replica can serve them.
 */
@Injectable()
export class StudentsService {
  private readonly logger = new Logger('Students');
  private training = false;
  /**
   * The feature map last fitted for a (task, pool size, features) and the pool through it: the
   * students of one pool (a job's rounds, the jobs of a task) share it instead of refitting it
   * (edge energy of a 10k-image pool takes tens of seconds). Public inputs only; one entry.
   */
  private fitted: { key: string; features: FittedFeatures } | undefined;

  constructor(
    private readonly repository: StudentsRepository,
    private readonly jobs: JobsRepository,
    private readonly tasks: TasksRepository,
  ) {}

  /**
   * Does at most one piece of worker work: first the query selection of a job waiting for its next
   * round (a running job waits on it), else one claimed student. True if something was done (or
   * failed).
   */
  async trainNext(): Promise<boolean> {
    if (this.training) return false;
    this.training = true;
    try {
      const selecting = await this.jobs.jobAwaitingSelection();
      if (selecting) {
        try {
          await this.selectNextRound(selecting);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          this.logger.error({ jobId: selecting, err: message }, 'query selection failed');
          await this.jobs.failJobWithBatches(selecting, `query selection failed: ${message}`);
        }
        return true;
      }
      const jobId = await this.repository.claimNext();
      if (!jobId) return false;
      try {
        await this.train(jobId);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.logger.error({ jobId, err: message }, 'student training failed');
        await this.repository.fail(jobId, message);
      }
      return true;
    } finally {
      this.training = false;
    }
  }

  /**
   * Trains a student, in a worker, on what `job` released for its pool queries so far (evaluation
   * queries are never learned from).
   */
  private async fit(job: JobRow, options: { predictPool: boolean; labels?: Awaited<ReturnType<JobsRepository['releasedLabels']>> }) {
    const task = (await this.tasks.find(job.taskId))!;
    const settings = studentSettingsOf(job.studentSettings, job.mechanism);
    const width = featureCount(task.inputSpec);
    const normalise = normaliser(task.inputSpec);
    const { pool, holdout } = await this.repository.poolAndHoldout(task.id);
    const toDataset = (rows: { features: number[]; label?: number }[]): Dataset => {
      const features = new Float32Array(rows.length * width);
      const labels = new Int32Array(rows.length);
      rows.forEach((r, i) => {
        normalise(r.features, features, i * width);
        labels[i] = r.label ?? -1;
      });
      return { features, labels, shape: [width], count: rows.length, classes: task.classes.length };
    };
    const rowOf = new Map(pool.map((p, i) => [p.idx, i]));
    const poolQueries = job.queries - job.evaluationQueries;
    const all = options.labels ?? (await this.jobs.releasedLabels(job.id));
    // A pool query's row in the pool the student is given (query selection reorders the pool).
    const position = new Map<number, number>();
    for (const l of all) {
      if (l.queryIndex >= poolQueries) continue;
      const row = rowOf.get(poolExampleOf(job, l.queryIndex));
      if (row !== undefined) position.set(l.queryIndex, row);
    }
    const released = all.filter((l) => position.has(l.queryIndex));
    const key = `${task.id}/${pool.length}/${holdout.length}/${settings.features}/${settings.pcaComponents}`;
    const fitted = settings.features !== 'input' && this.fitted?.key === key ? this.fitted.features : undefined;
    const result = await trainStudentInWorker({
      pool: toDataset(pool),
      ...(holdout.length > 0 ? { holdout: toDataset(holdout) } : {}),
      released: studentTargets(job.mechanism, settings, released, position),
      spec: { kind: 'mlp', inputSize: width, hidden: settings.hidden, classes: task.classes.length },
      epochs: settings.epochs,
      batchSize: STUDENT_TRAINING.batchSize,
      ...(settings.semiSupervised
        ? { semiSupervised: { kind: 'pseudo-label', ...STUDENT_TRAINING.pseudoLabel, startEpoch: Math.ceil(settings.epochs / 2) } }
        : {}),
      ...(settings.features === 'pca' ? { features: { kind: 'pca', components: settings.pcaComponents ?? 50 } } : {}),
      ...(settings.features === 'edges'
        ? { features: { kind: 'edges', components: settings.pcaComponents ?? 100, imageShape: imageShapeOf(task.inputSpec)! } }
        : {}),
      ...(options.predictPool ? { predictPool: true } : {}),
      ...(fitted ? { fitted } : {}),
    });
    if (result.fittedFeatures) this.fitted = { key, features: result.fittedFeatures };
    return { result, all, holdout, pool, poolQueries, classes: task.classes.length };
  }

  /**
   * The next round of a job with query selection: a student on everything released so far, then
   * the unasked pool examples whose margin under it is closest to the target. Appended only if no
   * other replica appended first; then the round's first batch opens.
   */
  private async selectNextRound(jobId: string): Promise<void> {
    const job = (await this.jobs.findJob(jobId))!;
    const selection = job.querySelection!;
    const chosen = job.poolOrder!;
    const poolQueries = job.queries - job.evaluationQueries;
    const count = Math.min(roundSize(selection, poolQueries), poolQueries - chosen.length);
    const asked = new Set(chosen);
    const labels = await this.jobs.releasedLabels(jobId);
    const labelled = labels.some((l) => l.soft !== null || (l.answered && l.label !== null));
    let examples: number[];
    if (!labelled) {
      // Nothing answered yet (Confident-GNMax may answer none of a small round): no student can be
      // trained, so the round takes the next unasked pool examples in order.
      const { pool } = await this.repository.poolAndHoldout(job.taskId);
      examples = pool
        .map((p) => p.idx)
        .filter((idx) => !asked.has(idx))
        .slice(0, count);
    } else {
      const { result, pool, classes } = await this.fit(job, { predictPool: true, labels });
      const candidates = pool.flatMap((p, row) => (asked.has(p.idx) ? [] : [row]));
      examples = chooseByMargin(result.poolProbabilities, classes, candidates, count, selection.targetMargin).map((row) => pool[row].idx);
    }
    if (examples.length < count) throw new Error(`the pool has only ${examples.length} unasked examples for a round of ${count}`);
    const extended = await this.jobs.extendPoolOrder(jobId, chosen.length, examples);
    if (extended)
      this.logger.log(
        { jobId, round: Math.ceil(chosen.length / roundSize(selection, poolQueries)) + 1, queries: count },
        'next round of queries chosen',
      );
  }

  private async train(jobId: string): Promise<void> {
    const job = (await this.jobs.findJob(jobId))!;
    const { result, all, holdout, poolQueries } = await this.fit(job, { predictPool: false });
    const participants = await this.jobs.participants(jobId);
    const evaluation = evaluateReleasedLabels(
      all.filter((l) => l.queryIndex >= poolQueries),
      poolQueries,
      job.evaluationQueries,
      holdout,
      result.holdoutPredictions,
    );
    const teachers = participants.every((p) => p.teachers !== null) ? participants.reduce((sum, p) => sum + (p.teachers ?? 0), 0) : null;
    await this.repository.complete(jobId, {
      backend: result.backend,
      parameters: result.parameters,
      metrics: {
        ...result.metrics,
        evaluation,
        inference: {
          studentParameters: result.parameters,
          // One student evaluation, on the admin's side, against one query of the ensemble: every
          // teacher at every site evaluated, a sealed round trip to each site, and ε charged.
          ensembleTeachers: teachers,
          ensembleInstitutions: participants.length,
          modelEvaluationsPerPrediction: { student: 1, ensemble: teachers },
        },
      },
      modelJson: result.modelJson,
      weights: Buffer.from(result.weights),
    });
    this.logger.log({ jobId, holdoutAccuracy: result.metrics.holdoutAccuracy, backend: result.backend }, 'student ready');
  }

  async get(jobId: string): Promise<StudentRow> {
    const student = await this.repository.find(jobId);
    if (!student) throw new ProblemException(HttpStatus.NOT_FOUND, 'No student', `job ${jobId} has no student (it has not completed)`);
    return student;
  }

  async artifacts(jobId: string): Promise<{ modelJson: unknown; weights: Buffer }> {
    const artifacts = await this.repository.artifacts(jobId);
    if (!artifacts) throw new ProblemException(HttpStatus.NOT_FOUND, 'Student not ready', `the student of job ${jobId} is not trained yet`);
    return artifacts;
  }
}

/** What the evaluation queries of a job show: the released labels and the student on the same holdout examples. */
export interface LabelEvaluation {
  /** Holdout examples asked (charged like every query). */
  queries: number;
  /** Of those, how many received a label (Confident-GNMax answers only confident queries). */
  answered: number;
  /** Accuracy of the released labels on the answered evaluation queries: the noisy ensemble's accuracy there. */
  labelAccuracy: number | null;
  /** The student's accuracy on the same answered examples. */
  studentAccuracy: number | null;
  /** studentAccuracy / labelAccuracy: how much of the (noisy) ensemble's accuracy the student keeps. */
  studentToEnsembleAccuracy: number | null;
  note: string;
}

/**
 * Compares the released labels of evaluation queries with the holdout's labels, and the student's
 * predictions on the same examples. Released labels are a DP output and the holdout is public, so
 * this costs nothing beyond the queries' own charges. Soft-label releases count their argmax.
 */
export function evaluateReleasedLabels(
  labels: readonly { queryIndex: number; answered: boolean; label: number | null; soft: number[] | null }[],
  poolQueries: number,
  queries: number,
  holdout: readonly { idx: number; label: number }[],
  studentPredictions: Int32Array,
): LabelEvaluation {
  const row = new Map(holdout.map((h, i) => [h.idx, i]));
  let answered = 0;
  let labelCorrect = 0;
  let studentCorrect = 0;
  for (const l of labels) {
    const released = l.label ?? (l.soft ? argmax(l.soft) : null);
    if (!l.answered || released === null) continue;
    const i = row.get(l.queryIndex - poolQueries);
    if (i === undefined) continue;
    answered += 1;
    if (released === holdout[i].label) labelCorrect += 1;
    if (studentPredictions[i] === holdout[i].label) studentCorrect += 1;
  }
  const labelAccuracy = answered > 0 ? labelCorrect / answered : null;
  const studentAccuracy = answered > 0 && studentPredictions.length === holdout.length ? studentCorrect / answered : null;
  return {
    queries,
    answered,
    labelAccuracy,
    studentAccuracy,
    studentToEnsembleAccuracy: labelAccuracy && studentAccuracy !== null ? studentAccuracy / labelAccuracy : null,
    note:
      queries === 0
        ? 'no evaluation queries: create the job with evaluationQueries > 0 to measure the released labels'
        : 'measured on the answered evaluation queries (holdout examples asked through the same mechanism and charged)',
  };
}
