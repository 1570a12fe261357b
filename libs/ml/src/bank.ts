import * as tf from '@tensorflow/tfjs';
import { type Dataset, featureSize } from './data/dataset';
import { seededPermutation } from './data/prng';
import { buildMlp, type MlpSpec } from './models/mlp';
import type { TrainingProgress } from './train';

/**
 * Many small MLP teachers trained at once, as one batched graph.
 *
 * PATE's teachers are small and many (hundreds of MLPs on a few hundred examples each). Trained
 * one by one, tfjs spends most of each step on per-operation overhead, not arithmetic. Here teacher
 * t's weights are slice t of stacked tensors ([k, in, out]) and one batched matMul runs a minibatch
 * of every teacher. The teachers stay independent: the loss is the SUM over teachers of each
 * teacher's own mean loss on its own minibatch, so a teacher's gradient depends only on its own
 * weights and its own partition, and Adam updates each parameter elementwise — each teacher follows
 * exactly the path it would follow trained alone with the same minibatch schedule. What a teacher
 * saw is still only its partition: that is what the per-record privacy guarantee rests on.
 *
 * Partitions may differ in size (the agent's differ by at most one). An epoch is as many steps as
 * the LARGEST partition needs; a smaller partition wraps around within the epoch (a few of its
 * examples are seen twice), so every teacher takes the same steps with real examples. A teacher's
 * path thus depends on its own partition and on the largest partition's size — a public figure
 * (partition sizes are recorded in the teachers' manifest) — and on nothing else.
 */
export interface MlpBankOptions {
  readonly epochs: number;
  readonly batchSize: number;
  /** Adam learning rate; default 1e-3. */
  readonly learningRate?: number;
  /** Seeds initial weights and minibatch order (not privacy noise). Default 1. */
  readonly seed?: number;
  /** Called after each epoch; samples count the rows used (teachers × largest partition per epoch). */
  readonly onProgress?: (progress: TrainingProgress) => void;
}

export interface MlpBankResult {
  /** One ordinary tfjs model per partition, in partition order (see buildMlp). */
  readonly models: tf.Sequential[];
  readonly elapsedMs: number;
  /** Examples × epochs over all teachers, per second. */
  readonly samplesPerSecond: number;
  readonly finalLoss: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Trains one MLP (`spec`, without dropout) per partition of `data`. `data` holds flat features of
 * `spec.inputSize` (after any fixed projection: see MlpSpec.projection, whose weights the caller
 * sets afterwards with `setProjection`); `partitions[t]` are the row indices of teacher t.
 */
export async function trainMlpBank(
  data: Dataset,
  partitions: readonly Int32Array[],
  spec: MlpSpec,
  options: MlpBankOptions,
): Promise<MlpBankResult> {
  const k = partitions.length;
  const trainedInput = spec.projection?.outputSize ?? spec.inputSize;
  if (k === 0) throw new Error('trainMlpBank: no partitions');
  if ((spec.dropout ?? 0) > 0) throw new Error('trainMlpBank: dropout is not supported in a bank');
  if (featureSize(data.shape) !== trainedInput) {
    throw new Error(`trainMlpBank: the data has ${featureSize(data.shape)} features, the layers after any projection take ${trainedInput}`);
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  for (const [t, p] of partitions.entries()) {
    if (p.length === 0) throw new Error(`trainMlpBank: partition ${t} is empty`);
    for (const i of p)
      if (i < 0 || i >= data.count) throw new Error(`trainMlpBank: partition ${t} has row ${i}, outside [0, ${data.count})`);
  }
  const seed = options.seed ?? 1;
  const sizes = [trainedInput, ...spec.hidden, spec.classes];
  const b = options.batchSize;
  const maxSize = Math.max(...partitions.map((p) => p.length));
  const stepsPerEpoch = Math.ceil(maxSize / b);
  // Rows used per epoch (examples of smaller partitions seen twice count twice).
  const realSamples = k * maxSize;

  const features = tf.tensor2d(data.features, [data.count, trainedInput]);
  const labels = tf.tensor1d(data.labels, 'int32');
  // He-normal hidden layers, Glorot-uniform output layer (as buildMlp), zero biases.
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l], sizes[l + 1]];
    const last = l + 2 === sizes.length;
    const init = last
      ? tf.randomUniform([k, fanIn, fanOut], -Math.sqrt(6 / (fanIn + fanOut)), Math.sqrt(6 / (fanIn + fanOut)), 'float32', seed * 7919 + l)
      : tf.randomNormal([k, fanIn, fanOut], 0, Math.sqrt(2 / fanIn), 'float32', seed * 7919 + l);
    weights.push(tf.variable(init, true, `bank_w${l}`));
    init.dispose();
    biases.push(tf.variable(tf.zeros([k, 1, fanOut]), true, `bank_b${l}`));
  }
  const variables = [...weights, ...biases];
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const start = performance.now();
  let finalLoss = Number.NaN;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const orders = partitions.map((p, t) => seededPermutation(p.length, (seed * 1_000_003 + epoch) * 65_537 + t));
      let lossSum = tf.scalar(0);
      for (let s = 0; s < stepsPerEpoch; s++) {
        // Every teacher gets the same number of rows this step; a smaller partition wraps around.
        const m = Math.min(b, maxSize - s * b);
        const rows = new Int32Array(k * m);
        for (let t = 0; t < k; t++) {
          const p = partitions[t];
          for (let j = 0; j < m; j++) rows[t * m + j] = p[orders[t][(s * b + j) % p.length]];
        }
        const rowsT = tf.tensor1d(rows, 'int32');
        const cost = optimizer.minimize(
          () => {
            let h: tf.Tensor = tf.gather(features, rowsT).reshape([k, m, trainedInput]);
            for (let l = 0; l < weights.length; l++) {
              h = tf.add(tf.matMul(h, weights[l]), biases[l]);
              if (l + 1 < weights.length) h = tf.relu(h);
            }
            const y = tf.oneHot(tf.gather(labels, rowsT), spec.classes).reshape([k, m, spec.classes]);
            // Per-example softmax cross-entropy, averaged within each teacher, summed over teachers.
            const perExample = tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(h)), -1));
            return tf.sum<tf.Scalar>(tf.mean(perExample, -1));
          },
          true,
          variables,
        );
        rowsT.dispose();
        if (cost === null) throw new Error('optimizer returned no cost');
        const next = tf.add<tf.Scalar>(lossSum, cost);
        lossSum.dispose();
        cost.dispose();
        lossSum = next;
      }
      finalLoss = (await lossSum.data())[0] / stepsPerEpoch / k;
      lossSum.dispose();
      const elapsedMs = performance.now() - start;
      const samplesDone = realSamples * epoch;
      const rate = samplesDone / Math.max(elapsedMs, 1e-9);
      options.onProgress?.({
        epoch,
        epochs: options.epochs,
        batch: stepsPerEpoch,
        batchesPerEpoch: stepsPerEpoch,
        samplesDone,
        samplesTotal: realSamples * options.epochs,
        elapsedMs,
        etaMs: (realSamples * options.epochs - samplesDone) / rate,
        samplesPerSecond: rate * 1000,
        loss: finalLoss,
      });
      await yieldToEventLoop();
    }
    const elapsedMs = performance.now() - start;
    const models = await unstack(weights, biases, spec, seed);
    return { models, elapsedMs, samplesPerSecond: ((realSamples * options.epochs) / elapsedMs) * 1000, finalLoss };
  } finally {
    optimizer.dispose();
    features.dispose();
    labels.dispose();
    for (const v of variables) v.dispose();
  }
}

/** Teacher t's layers as an ordinary model; a projection layer, if any, keeps the weights buildMlp gave it. */
async function unstack(weights: tf.Variable[], biases: tf.Variable[], spec: MlpSpec, seed: number): Promise<tf.Sequential[]> {
  const k = weights[0].shape[0];
  const ws = await Promise.all(weights.map((w) => w.data()));
  const bs = await Promise.all(biases.map((v) => v.data()));
  const models: tf.Sequential[] = [];
  for (let t = 0; t < k; t++) {
    const model = buildMlp(spec, seed + t);
    const trainable = model.layers.filter((layer) => layer.trainable && layer.getWeights().length === 2);
    if (trainable.length !== weights.length)
      throw new Error(`trainMlpBank: expected ${weights.length} dense layers, built ${trainable.length}`);
    trainable.forEach((layer, l) => {
      const [, fanIn, fanOut] = weights[l].shape as [number, number, number];
      const w = tf.tensor2d(ws[l].subarray(t * fanIn * fanOut, (t + 1) * fanIn * fanOut) as Float32Array, [fanIn, fanOut]);
      const bias = tf.tensor1d(bs[l].subarray(t * fanOut, (t + 1) * fanOut) as Float32Array);
      layer.setWeights([w, bias]);
      w.dispose();
      bias.dispose();
    });
    models.push(model);
  }
  return models;
}
