import * as tf from '@tensorflow/tfjs';
import { type Dataset, featureSize } from './data/dataset';
import { seededPermutation } from './data/prng';

/** Reported per epoch (default) or per batch. Times in milliseconds. */
export interface TrainingProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Batches done in this epoch. */
  readonly batch: number;
  readonly batchesPerEpoch: number;
  readonly samplesDone: number;
  readonly samplesTotal: number;
  readonly elapsedMs: number;
  /** Remaining time at the average speed so far. */
  readonly etaMs: number;
  readonly samplesPerSecond: number;
  /** Mean loss over the batches of this epoch so far. */
  readonly loss: number;
}

export interface TrainOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam learning rate; default 1e-3. */
  readonly learningRate?: number;
  /** Seeds mini-batch order (not privacy noise). Default 1. */
  readonly seed?: number;
  /** 'epoch' (default) or 'batch'. */
  readonly progressEvery?: 'epoch' | 'batch';
  readonly onProgress?: (progress: TrainingProgress) => void;
}

export interface TrainResult {
  readonly epochs: number;
  readonly samples: number;
  readonly elapsedMs: number;
  readonly samplesPerSecond: number;
  /** Mean loss over the last epoch. */
  readonly finalLoss: number;
}

/**
 * One source of mini-batches: `count` examples and the loss of a batch given their indices.
 * `lossFor` runs inside optimizer.minimize (tidied by tfjs) and must build its own tensors.
 */
export interface BatchLoss {
  readonly count: number;
  lossFor(indices: Int32Array, model: tf.LayersModel): tf.Scalar;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The Adam + mini-batch loop shared by teacher training and distillation. */
export async function runTrainingLoop(model: tf.LayersModel, source: BatchLoss, options: TrainOptions): Promise<TrainResult> {
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  if (source.count === 0) throw new Error('nothing to train on: 0 examples');
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const batchesPerEpoch = Math.ceil(source.count / options.batchSize);
  const samplesTotal = source.count * options.epochs;
  const seed = options.seed ?? 1;
  const start = performance.now();
  let samplesDone = 0;
  let finalLoss = Number.NaN;
  const report = (epoch: number, batch: number, loss: number): void => {
    const elapsedMs = performance.now() - start;
    const rate = samplesDone / Math.max(elapsedMs, 1e-9);
    options.onProgress?.({
      epoch,
      epochs: options.epochs,
      batch,
      batchesPerEpoch,
      samplesDone,
      samplesTotal,
      elapsedMs,
      etaMs: rate > 0 ? (samplesTotal - samplesDone) / rate : Number.POSITIVE_INFINITY,
      samplesPerSecond: rate * 1000,
      loss,
    });
  };
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const order = seededPermutation(source.count, seed * 1_000_003 + epoch);
      let lossSum = tf.scalar(0);
      for (let b = 0; b < batchesPerEpoch; b++) {
        const indices = order.subarray(b * options.batchSize, Math.min(source.count, (b + 1) * options.batchSize));
        const cost = optimizer.minimize(() => source.lossFor(indices, model), true, variables);
        if (cost === null) throw new Error('optimizer returned no cost');
        const next = tf.add<tf.Scalar>(lossSum, cost);
        lossSum.dispose();
        cost.dispose();
        lossSum = next;
        samplesDone += indices.length;
        if (options.progressEvery === 'batch' && options.onProgress !== undefined) {
          report(epoch, b + 1, (await lossSum.data())[0] / (b + 1));
          await yieldToEventLoop();
        }
      }
      finalLoss = (await lossSum.data())[0] / batchesPerEpoch;
      lossSum.dispose();
      if (options.progressEvery !== 'batch') report(epoch, batchesPerEpoch, finalLoss);
      await yieldToEventLoop();
    }
  } finally {
    optimizer.dispose();
  }
  const elapsedMs = performance.now() - start;
  return { epochs: options.epochs, samples: samplesDone, elapsedMs, samplesPerSecond: (samplesDone / elapsedMs) * 1000, finalLoss };
}

/** Copies the examples at `indices` into one input tensor of shape [n, ...exampleShape]. */
export function gatherInputs(features: Float32Array, exampleShape: readonly number[], indices: ArrayLike<number>): tf.Tensor {
  const d = featureSize(exampleShape);
  const out = new Float32Array(indices.length * d);
  for (let i = 0; i < indices.length; i++) out.set(features.subarray(indices[i] * d, (indices[i] + 1) * d), i * d);
  return tf.tensor(out, [indices.length, ...exampleShape]);
}

function checkCompatible(model: tf.LayersModel, data: Dataset): void {
  const expected = model.inputs[0].shape.slice(1);
  const d = featureSize(data.shape);
  const modelSize = expected.reduce<number>((a, b) => a * (b ?? 1), 1);
  if (modelSize !== d) {
    throw new Error(`model expects examples of shape [${expected.join(', ')}], dataset has shape [${data.shape.join(', ')}]`);
  }
}

function modelInputShape(model: tf.LayersModel): number[] {
  return model.inputs[0].shape.slice(1).map((s) => s ?? 1);
}

/**
 * Supervised training on hard labels with softmax cross-entropy (the model outputs logits).
 * Examples labelled -1 are skipped.
 */
export async function trainClassifier(model: tf.LayersModel, data: Dataset, options: TrainOptions): Promise<TrainResult> {
  checkCompatible(model, data);
  const shape = modelInputShape(model);
  const labelled: number[] = [];
  for (let i = 0; i < data.count; i++) if (data.labels[i] >= 0) labelled.push(i);
  const rows = Int32Array.from(labelled);
  const classes = model.outputs[0].shape[1] ?? data.classes;
  return runTrainingLoop(
    model,
    {
      count: rows.length,
      lossFor: (indices, m) => {
        const chosen = Int32Array.from(indices, (i) => rows[i]);
        const x = gatherInputs(data.features, shape, chosen);
        const y = tf.oneHot(
          tf.tensor1d(
            Int32Array.from(chosen, (i) => data.labels[i]),
            'int32',
          ),
          classes,
        );
        const logits = m.apply(x, { training: true }) as tf.Tensor;
        return tf.losses.softmaxCrossEntropy<tf.Tensor, tf.Scalar>(y, logits);
      },
    },
    options,
  );
}

/**
 * Class probabilities softmax(logits / temperature) for row-major features (count × example size),
 * computed in batches. Returns count × classes, row-major.
 */
export function predictProbabilities(
  model: tf.LayersModel,
  features: Float32Array,
  options: { temperature?: number; batchSize?: number } = {},
): Float32Array {
  const shape = modelInputShape(model);
  const d = featureSize(shape);
  const count = features.length / d;
  if (!Number.isInteger(count))
    throw new Error(`predictProbabilities: ${features.length} values is not a whole number of examples of ${d}`);
  const classes = model.outputs[0].shape[1] ?? 0;
  const temperature = options.temperature ?? 1;
  const batchSize = options.batchSize ?? 512;
  const out = new Float32Array(count * classes);
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const probs = tf.tidy(() => {
      const x = tf.tensor(features.subarray(start * d, end * d), [end - start, ...shape]);
      const logits = model.predict(x) as tf.Tensor;
      return tf.softmax(tf.div(logits, temperature));
    });
    out.set(probs.dataSync(), start * classes);
    probs.dispose();
  }
  return out;
}

/** Index of the largest value in each row of a row-major (rows × classes) array. */
export function argmaxRows(values: ArrayLike<number>, classes: number): Int32Array {
  const rows = values.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[r * classes + c] > values[r * classes + best]) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of labelled examples (label ≥ 0) whose predicted class is the label. */
export function evaluateAccuracy(model: tf.LayersModel, data: Dataset): number {
  checkCompatible(model, data);
  const predicted = argmaxRows(predictProbabilities(model, data.features), model.outputs[0].shape[1] ?? data.classes);
  let correct = 0;
  let labelled = 0;
  for (let i = 0; i < data.count; i++) {
    if (data.labels[i] < 0) continue;
    labelled += 1;
    if (predicted[i] === data.labels[i]) correct += 1;
  }
  return labelled === 0 ? Number.NaN : correct / labelled;
}
