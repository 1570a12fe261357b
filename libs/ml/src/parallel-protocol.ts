import type { BackendPreference, BackendSelection } from './backend';
import type { ModelSpec } from './models';
import type { TrainResult, TrainingProgress } from './train';

/** Messages between parallel.ts (parent) and teacher-worker.ts. Structured-clone safe. */

export interface SharedDataset {
  /** Float32 features over a SharedArrayBuffer: not copied per worker. */
  readonly features: SharedArrayBuffer;
  readonly labels: SharedArrayBuffer;
  readonly shape: readonly number[];
  readonly count: number;
  readonly classes: number;
}

export interface TeacherWorkerData {
  readonly backend: BackendPreference;
  readonly dataset: SharedDataset;
  readonly evaluation?: SharedDataset;
}

export interface TeacherTrainingSettings {
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate?: number;
  /** Teacher t's batch order and initial weights use seed + t. */
  readonly seed?: number;
  readonly progressEvery?: 'epoch' | 'batch';
}

export interface TeacherJob {
  readonly teacher: number;
  readonly indices: Int32Array;
  readonly spec: ModelSpec;
  readonly training: TeacherTrainingSettings;
  /** Where to save the teacher (model.json + weights.bin); omitted: the model is discarded. */
  readonly modelDir?: string;
}

export interface TeacherOutcome {
  readonly teacher: number;
  readonly examples: number;
  readonly train: TrainResult;
  /** Accuracy on the evaluation set, when one was given. */
  readonly accuracy?: number;
  readonly modelDir?: string;
}

export type ToWorker = { readonly type: 'train'; readonly job: TeacherJob } | { readonly type: 'exit' };

export type FromWorker =
  | { readonly type: 'ready'; readonly backend: BackendSelection }
  | { readonly type: 'progress'; readonly teacher: number; readonly progress: TrainingProgress }
  | { readonly type: 'done'; readonly outcome: TeacherOutcome }
  | { readonly type: 'error'; readonly teacher?: number; readonly message: string };
