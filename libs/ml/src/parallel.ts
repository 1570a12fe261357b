import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { BackendPreference, BackendSelection } from './backend';
import { type Dataset, featureSize } from './data/dataset';
import type { ModelSpec } from './models';
import type {
  FromWorker,
  SharedDataset,
  TeacherJob,
  TeacherOutcome,
  TeacherTrainingSettings,
  TeacherWorkerData,
  ToWorker,
} from './parallel-protocol';
import type { TrainingProgress } from './train';
// Type-only, erased at run time: it puts teacher-worker.ts in every program that compiles this
// file (e.g. the agent's build follows imports from apps/agent), so it is emitted next to it.
import type * as _teacherWorker from './teacher-worker';

export type { TeacherOutcome, TeacherTrainingSettings } from './parallel-protocol';

/**
 * Trains k teachers on k partitions in up to `workers` worker threads. Each worker selects its
 * own backend (tfjs keeps one engine per thread) and trains one teacher at a time; the dataset
 * is placed once in SharedArrayBuffers that every worker reads without copying.
 *
 * How the worker is started: the worker is `teacher-worker` next to this file with the same
 * extension. From compiled JS it is required directly. From TypeScript sources (tsx, vitest) a
 * two-line eval bootstrap registers tsx's CommonJS require hook in the worker first — a `.js`
 * entry file would not do: tsc (no allowJs) does not copy it into dist/.
 */
export interface ParallelTeacherOptions {
  readonly dataset: Dataset;
  /** One index array per teacher (see partition). */
  readonly partitions: readonly Int32Array[];
  readonly spec: ModelSpec;
  readonly training: TeacherTrainingSettings;
  /** Worker threads; default min(k, availableParallelism()). */
  readonly workers?: number;
  readonly backend?: BackendPreference;
  /** Teacher t is saved to `${outputDir}/teacher-${t}`; omitted: models are discarded. */
  readonly outputDir?: string;
  /** Labelled data each teacher is evaluated on (e.g. a holdout). */
  readonly evaluation?: Dataset;
  readonly onEvent?: (event: ParallelTrainingEvent) => void;
}

export type ParallelTrainingEvent =
  | { readonly kind: 'worker-ready'; readonly worker: number; readonly backend: BackendSelection }
  | { readonly kind: 'progress'; readonly worker: number; readonly teacher: number; readonly progress: TrainingProgress }
  | { readonly kind: 'teacher-done'; readonly worker: number; readonly outcome: TeacherOutcome };

export interface ParallelTeacherResult {
  /** Index-aligned with partitions. */
  readonly teachers: (TeacherOutcome & { readonly worker: number; readonly backend: BackendSelection })[];
  readonly workers: number;
  /** From the call to the last teacher finished, worker start-up included. */
  readonly wallMs: number;
  /** From the first worker ready to the last teacher finished. */
  readonly trainingWallMs: number;
  /** All teachers' training samples (examples × epochs) over trainingWallMs. */
  readonly samplesPerSecond: number;
}

function share(dataset: Dataset): SharedDataset {
  const d = featureSize(dataset.shape);
  const features = new SharedArrayBuffer(dataset.count * d * 4);
  new Float32Array(features).set(dataset.features.subarray(0, dataset.count * d));
  const labels = new SharedArrayBuffer(dataset.count * 4);
  new Int32Array(labels).set(dataset.labels.subarray(0, dataset.count));
  return { features, labels, shape: [...dataset.shape], count: dataset.count, classes: dataset.classes };
}

const nodeRequire = createRequire(__filename);

/** The eval source that starts `<name>-worker` from compiled JS, or from TS sources through tsx. */
export function workerBootstrap(name = 'teacher'): string {
  const extension = extname(__filename);
  const entry = join(__dirname, `${name}-worker${extension}`);
  if (extension === '.js') return `require(${JSON.stringify(entry)});`;
  let tsxApi: string;
  try {
    tsxApi = nodeRequire.resolve('tsx/cjs/api');
  } catch {
    throw new Error('parallel training from TypeScript sources needs tsx (a dev dependency); run the compiled JS instead');
  }
  return `require(${JSON.stringify(tsxApi)}).register();\nrequire(${JSON.stringify(entry)});`;
}

export async function trainTeachersInParallel(options: ParallelTeacherOptions): Promise<ParallelTeacherResult> {
  const k = options.partitions.length;
  if (k === 0) throw new Error('trainTeachersInParallel: no partitions');
  const workerCount = Math.max(1, Math.min(k, options.workers ?? availableParallelism()));
  const start = performance.now();
  const bootstrap = workerBootstrap();
  const data: TeacherWorkerData = {
    backend: options.backend ?? 'auto',
    dataset: share(options.dataset),
    ...(options.evaluation !== undefined ? { evaluation: share(options.evaluation) } : {}),
  };
  const jobs: TeacherJob[] = options.partitions.map((indices, teacher) => ({
    teacher,
    indices,
    spec: options.spec,
    training: options.training,
    ...(options.outputDir !== undefined ? { modelDir: join(options.outputDir, `teacher-${teacher}`) } : {}),
  }));
  const results: ParallelTeacherResult['teachers'] = [];
  let next = 0;
  let finished = 0;
  let firstReady: number | undefined;
  const workers: Worker[] = [];

  const outcome = await new Promise<{ end: number }>((resolve, reject) => {
    let failed = false;
    const fail = (error: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(error);
    };
    for (let index = 0; index < workerCount; index++) {
      const worker = new Worker(bootstrap, { eval: true, workerData: data });
      workers.push(worker);
      let backend: BackendSelection | undefined;
      let released = false;
      const dispatch = (): void => {
        const job = jobs[next];
        const message: ToWorker = job === undefined ? { type: 'exit' } : { type: 'train', job };
        if (job !== undefined) next += 1;
        else released = true;
        worker.postMessage(message);
      };
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            backend = message.backend;
            firstReady ??= performance.now();
            options.onEvent?.({ kind: 'worker-ready', worker: index, backend: message.backend });
            dispatch();
            break;
          case 'progress':
            options.onEvent?.({ kind: 'progress', worker: index, teacher: message.teacher, progress: message.progress });
            break;
          case 'done':
            if (backend === undefined) return fail(new Error(`worker ${index} finished a teacher before reporting its backend`));
            results[message.outcome.teacher] = { ...message.outcome, worker: index, backend };
            options.onEvent?.({ kind: 'teacher-done', worker: index, outcome: message.outcome });
            finished += 1;
            if (finished === k) resolve({ end: performance.now() });
            dispatch();
            break;
          case 'error':
            fail(new Error(`worker ${index}${message.teacher !== undefined ? ` (teacher ${message.teacher})` : ''}: ${message.message}`));
            break;
        }
      });
      worker.on('error', (error) => fail(error));
      worker.on('exit', (code) => {
        if (!released) fail(new Error(`worker ${index} exited with code ${code} before all teachers were trained`));
      });
    }
  });
  // Every result is in (saved models were written before 'done' was posted).
  await Promise.all(workers.map((w) => w.terminate()));
  const samples = results.reduce((a, r) => a + r.train.samples, 0);
  const trainingWallMs = outcome.end - (firstReady ?? start);
  return {
    teachers: results,
    workers: workerCount,
    wallMs: outcome.end - start,
    trainingWallMs,
    samplesPerSecond: (samples / trainingWallMs) * 1000,
  };
}
