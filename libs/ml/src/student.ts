import { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import type { BackendName } from './backend';
import type { Dataset } from './data/dataset';
import type { PseudoLabelling, ReleasedLabels, StudentMetrics } from './distill';
import type { FeatureMap } from './features/feature-map';
import type { ModelSpec } from './models';
import { workerBootstrap } from './parallel';
// A type-only import so that tsc compiles the worker entry with this module.
import type * as _studentWorker from './student-worker';

interface TransferableDataset {
  features: ArrayBuffer;
  labels: ArrayBuffer;
  shape: number[];
  count: number;
  classes: number;
}

/** 'pca': PCA of the public pool; 'edges': edge energy of the images, then PCA (see feature-map.ts). */
/**
 * A feature map already fitted on this pool (as a student's `fittedFeatures` returned it) and the
 * pool's and holdout's rows through it: the worker skips fitting and applying it. The map is a
 * function of public inputs only, so reusing it for another student of the same pool changes
 * nothing but the time.
 */
export interface FittedFeatures {
  map: FeatureMap;
  pool: Float32Array;
  holdout?: Float32Array;
}

export type StudentFeatures =
  { kind: 'input' } | { kind: 'pca'; components: number } | { kind: 'edges'; components: number; imageShape: [number, number] };

export interface StudentWorkerData {
  pool: TransferableDataset;
  holdout?: TransferableDataset;
  released:
    | { kind: 'hard'; indices: ArrayBuffer; labels: ArrayBuffer }
    | { kind: 'soft'; indices: ArrayBuffer; noisyScores: ArrayBuffer; temperature: number };
  spec: ModelSpec;
  epochs: number;
  batchSize: number;
  seed: number;
  semiSupervised?: PseudoLabelling;
  backend?: BackendName | 'auto';
  /** Features the student learns on: its inputs (default) or a PCA of the public pool, baked into the saved model. */
  features?: StudentFeatures;
  /** Also return the student's class probabilities on every pool row (e.g. to choose further queries). */
  predictPool?: boolean;
  /** With `features` other than inputs: the map already fitted on this very pool (see FittedFeatures). */
  fitted?: FittedFeatures;
}

export interface StudentWorkerResult {
  metrics: StudentMetrics;
  backend: BackendName;
  /** Trainable and non-trainable parameters: the student's size, a proxy for inference cost. */
  parameters: number;
  /** tfjs-node layout: model.json whose manifest names weights.bin. */
  modelJson: tf.io.ModelJSON;
  modelJsonName: string;
  weights: ArrayBuffer;
  /** The student's class for each holdout row, in order (empty without a holdout). */
  holdoutPredictions: Int32Array;
  /** With `predictPool`: row-major class probabilities of every pool row (else empty). */
  poolProbabilities: Float32Array;
  /** The feature map this worker fitted, with the rows through it, to pass as `fitted` next time; absent if none was fitted. */
  fittedFeatures?: FittedFeatures;
}

export interface StudentTrainingOptions {
  pool: Dataset;
  holdout?: Dataset;
  released: ReleasedLabels;
  spec: ModelSpec;
  epochs: number;
  batchSize: number;
  seed?: number;
  semiSupervised?: PseudoLabelling;
  backend?: BackendName | 'auto';
  /** Features the student learns on: its inputs (default) or a PCA of the public pool, baked into the saved model. */
  features?: StudentFeatures;
  /** Also return the student's class probabilities on every pool row. */
  predictPool?: boolean;
  /** A feature map already fitted on this pool, for `features` (see FittedFeatures). */
  fitted?: FittedFeatures;
}

function copyOut(d: Dataset): TransferableDataset {
  const features = d.features.slice().buffer;
  const labels = d.labels.slice().buffer;
  return { features, labels, shape: [...d.shape], count: d.count, classes: d.classes };
}

/** Trains a student in a worker thread; resolves with its metrics and its model artifacts. */
export function trainStudentInWorker(options: StudentTrainingOptions): Promise<StudentWorkerResult> {
  const released: StudentWorkerData['released'] =
    options.released.kind === 'hard'
      ? { kind: 'hard', indices: options.released.indices.slice().buffer, labels: options.released.labels.slice().buffer }
      : {
          kind: 'soft',
          indices: options.released.indices.slice().buffer,
          noisyScores: options.released.noisyScores.slice().buffer,
          temperature: options.released.temperature,
        };
  const data: StudentWorkerData = {
    pool: copyOut(options.pool),
    ...(options.holdout ? { holdout: copyOut(options.holdout) } : {}),
    released,
    spec: options.spec,
    epochs: options.epochs,
    batchSize: options.batchSize,
    seed: options.seed ?? 1,
    ...(options.semiSupervised ? { semiSupervised: options.semiSupervised } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
    ...(options.features ? { features: options.features } : {}),
    ...(options.predictPool ? { predictPool: true } : {}),
    ...(options.fitted ? { fitted: options.fitted } : {}),
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerBootstrap('student'), { eval: true, workerData: data });
    let settled = false;
    worker.once('message', (message: { ok: true; result: StudentWorkerResult } | { ok: false; error: string }) => {
      settled = true;
      void worker.terminate();
      if (message.ok) resolve(message.result);
      else reject(new Error(`student training failed: ${message.error}`));
    });
    worker.once('error', (err) => {
      if (!settled) reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`student worker exited with code ${code}`));
    });
  });
}
