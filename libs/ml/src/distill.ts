import * as tf from '@tensorflow/tfjs';
import { type Dataset, featureSize } from './data/dataset';
import { seededPermutation, seededRandom } from './data/prng';
import { type LinearProjection, type ModelSpec, buildModel, checkProjection, inputShapeOf, setProjection } from './models';
import { type Augmentation, augmentRows, checkAugmentation } from './semi/augment';
import { argmaxRows, evaluateAccuracy, gatherInputs, predictProbabilities, type TrainingProgress } from './train';

export type { Augmentation } from './semi/augment';

/**
 * What the coordinator released for some queries of the public pool.
 *
 * - `hard`: one label per ANSWERED query (GNMax / Confident-GNMax). Unanswered queries are simply
 *   absent; they stay in the unlabeled pool.
 * - `soft`: one row of `classes` noisy scores per query, row-major, where larger means more likely:
 *   noisy vote counts, noisy summed (clipped) teacher probabilities, or noisy summed logits. The
 *   target is softmax(scores / temperature), so pick `temperature` on the scale of the scores
 *   (for votes of k teachers, a few votes; for probability sums, ~1). Scores may be negative
 *   (noise); softmax handles that.
 */
export type ReleasedLabels =
  | { readonly kind: 'hard'; readonly indices: Int32Array; readonly labels: Int32Array }
  | { readonly kind: 'soft'; readonly indices: Int32Array; readonly noisyScores: Float32Array; readonly temperature: number };

/**
 * Semi-supervised use of the unlabeled pool (costs no privacy: it only uses public inputs and the
 * student itself). 'pseudo-label': from `startEpoch` on, at the start of each epoch the student
 * labels the pool examples that have no released label; those whose top probability is at least
 * `threshold` join training as hard targets with loss weight `weight`. No augmentation, so this
 * is self-training, not FixMatch-style consistency.
 */
export interface PseudoLabelling {
  readonly kind: 'pseudo-label';
  readonly threshold: number;
  readonly weight: number;
  readonly startEpoch: number;
}

export interface DistillOptions {
  /** The public pool, already normalised like the teachers' inputs; its labels are ignored. */
  readonly pool: Dataset;
  readonly released: ReleasedLabels;
  readonly spec: ModelSpec;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate?: number;
  readonly seed?: number;
  readonly semiSupervised?: PseudoLabelling;
  /**
   * Random flips/shifts of every training row (released and pseudo-labelled), drawn afresh each
   * time a row is used; the pool rows must then be images (e.g. raw pixels, with a PCA `projection`
   * inside the model). Pseudo-labels and all metrics use the unaugmented rows.
   */
  readonly augment?: Augmentation;
  /**
   * The weights of the fixed first layer, required iff `spec` is an MLP with `projection`: the pool
   * then holds raw inputs and the returned model carries the projection.
   */
  readonly projection?: LinearProjection;
  /** Labelled data to evaluate the student on (never used for training). */
  readonly holdout?: Dataset;
  readonly onProgress?: (progress: TrainingProgress) => void;
}

export interface StudentMetrics {
  /** Pool examples with a released label. */
  readonly labelled: number;
  /** Pseudo-labelled pool examples in the last epoch (0 without semi-supervision). */
  readonly pseudoLabelled: number;
  /** Fraction of released examples where the student's argmax equals the released argmax. */
  readonly agreementWithReleased: number;
  readonly holdoutAccuracy?: number;
  readonly samples: number;
  readonly elapsedMs: number;
  readonly finalLoss: number;
}

export interface DistillResult {
  readonly model: tf.LayersModel;
  readonly metrics: StudentMetrics;
}

function softmaxRow(
  scores: Float32Array,
  offset: number,
  classes: number,
  temperature: number,
  out: Float32Array,
  outOffset: number,
): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < classes; c++) max = Math.max(max, scores[offset + c] / temperature);
  let sum = 0;
  for (let c = 0; c < classes; c++) {
    const e = Math.exp(scores[offset + c] / temperature - max);
    out[outOffset + c] = e;
    sum += e;
  }
  for (let c = 0; c < classes; c++) out[outOffset + c] /= sum;
}

/**
 * Trains a student from released labels plus the unlabeled pool.
 *
 * Loss per example i with target distribution q_i, temperature T_i and weight w_i:
 *   w_i · T_i² · CE(q_i, softmax(z_i / T_i))
 * which equals T_i² · KL(q_i ‖ softmax(z_i / T_i)) up to a constant (the entropy of q_i), i.e. the
 * gradients are those of the KL; T² keeps gradient scale comparable across temperatures (Hinton
 * et al. 2015). Hard and pseudo labels use one-hot q and T = 1.
 *
 * One Adam optimizer runs through all epochs (its moment estimates carry over), while the set of
 * pseudo-labelled rows is refreshed at the start of each epoch.
 */
export async function distillStudent(options: DistillOptions): Promise<DistillResult> {
  const { pool, released, spec } = options;
  const classes = spec.classes;
  const shape = inputShapeOf(spec);
  if (featureSize(shape) !== featureSize(pool.shape)) {
    throw new Error(`student expects examples of shape [${shape.join(', ')}], pool has [${pool.shape.join(', ')}]`);
  }
  if (options.augment !== undefined) checkAugmentation(options.augment, featureSize(pool.shape));
  const projection = options.projection;
  if (spec.kind === 'mlp' && spec.projection !== undefined) {
    if (projection === undefined) throw new Error('the student spec has a projection layer: pass its weights as `projection`');
    checkProjection(spec, projection);
  } else if (projection !== undefined) {
    throw new Error('`projection` given, but the student spec has no projection layer');
  }
  const n = released.indices.length;
  const labelledTargets = new Float32Array(n * classes);
  const temperature = released.kind === 'soft' ? released.temperature : 1;
  if (!(temperature > 0)) throw new Error(`temperature must be positive, got ${temperature}`);
  const hasLabel = new Uint8Array(pool.count);
  for (let i = 0; i < n; i++) {
    const q = released.indices[i];
    if (q < 0 || q >= pool.count) throw new Error(`released label ${i} refers to pool example ${q}, outside [0, ${pool.count})`);
    if (hasLabel[q] === 1) throw new Error(`pool example ${q} has two released labels`);
    hasLabel[q] = 1;
    if (released.kind === 'hard') {
      const label = released.labels[i];
      if (!(label >= 0 && label < classes)) throw new Error(`released label ${label} is outside [0, ${classes})`);
      labelledTargets[i * classes + label] = 1;
    } else {
      if (released.noisyScores.length !== n * classes) {
        throw new Error(`soft labels: expected ${n} × ${classes} scores, got ${released.noisyScores.length}`);
      }
      softmaxRow(released.noisyScores, i * classes, classes, temperature, labelledTargets, i * classes);
    }
  }
  const unlabelled = Int32Array.from({ length: pool.count - n }, () => 0);
  for (let q = 0, j = 0; q < pool.count; q++) if (hasLabel[q] === 0) unlabelled[j++] = q;

  const seed = options.seed ?? 1;
  const model = buildModel(spec, seed);
  if (projection !== undefined) setProjection(model, projection);
  const augment = options.augment;
  // Seeded augmentation draws: not privacy noise (only public pool inputs are perturbed).
  const random = seededRandom(seed * 7_919 + 17);
  const optimizer = tf.train.adam(options.learningRate ?? 1e-3);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new Error(`epochs must be a positive integer, got ${options.epochs}`);
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${options.batchSize}`);
  }
  if (n === 0 && options.semiSupervised === undefined) throw new Error('nothing to train on: 0 examples');
  const start = performance.now();
  let samples = 0;
  let finalLoss = Number.NaN;
  let pseudoLabelled = 0;
  const semi = options.semiSupervised;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      // Per epoch, rows are: the released examples, then the current pseudo-labelled ones.
      let pseudoRows = new Int32Array(0);
      let pseudoLabels = new Int32Array(0);
      if (semi !== undefined && epoch >= semi.startEpoch && unlabelled.length > 0) {
        const probs = predictProbabilities(model, subsetFeatures(pool, unlabelled));
        const predicted = argmaxRows(probs, classes);
        const rows: number[] = [];
        const labels: number[] = [];
        for (let j = 0; j < unlabelled.length; j++) {
          if (probs[j * classes + predicted[j]] >= semi.threshold) {
            rows.push(unlabelled[j]);
            labels.push(predicted[j]);
          }
        }
        pseudoRows = Int32Array.from(rows);
        pseudoLabels = Int32Array.from(labels);
      }
      pseudoLabelled = pseudoRows.length;
      const count = n + pseudoRows.length;
      if (count === 0) throw new Error('nothing to train on: 0 examples');
      const weight = semi?.weight ?? 0;
      const lossFor = (indices: Int32Array): tf.Scalar => {
        const b = indices.length;
        const poolRows = new Int32Array(b);
        const targets = new Float32Array(b * classes);
        const temps = new Float32Array(b);
        const weights = new Float32Array(b);
        for (let r = 0; r < b; r++) {
          const i = indices[r];
          if (i < n) {
            poolRows[r] = released.indices[i];
            targets.set(labelledTargets.subarray(i * classes, (i + 1) * classes), r * classes);
            temps[r] = temperature;
            weights[r] = temperature * temperature;
          } else {
            poolRows[r] = pseudoRows[i - n];
            targets[r * classes + pseudoLabels[i - n]] = 1;
            temps[r] = 1;
            weights[r] = weight;
          }
        }
        const x =
          augment === undefined
            ? gatherInputs(pool.features, shape, poolRows)
            : tf.tensor(augmentRows(pool.features, poolRows, augment, random), [b, ...shape]);
        const logits = model.apply(x, { training: true }) as tf.Tensor;
        const scaled = tf.div(logits, tf.tensor2d(temps, [b, 1]));
        const ce = tf.neg(tf.sum(tf.mul(tf.tensor2d(targets, [b, classes]), tf.logSoftmax(scaled)), 1));
        return tf.div(tf.sum(tf.mul(ce, tf.tensor1d(weights))), b);
      };
      // Same batch order as one epoch of runTrainingLoop seeded with seed + epoch.
      const order = seededPermutation(count, (seed + epoch) * 1_000_003 + 1);
      const batches = Math.ceil(count / options.batchSize);
      let lossSum = tf.scalar(0);
      for (let bi = 0; bi < batches; bi++) {
        const indices = order.subarray(bi * options.batchSize, Math.min(count, (bi + 1) * options.batchSize));
        const cost = optimizer.minimize(() => lossFor(indices), true, variables);
        if (cost === null) throw new Error('optimizer returned no cost');
        const next = tf.add<tf.Scalar>(lossSum, cost);
        lossSum.dispose();
        cost.dispose();
        lossSum = next;
        samples += indices.length;
      }
      finalLoss = (await lossSum.data())[0] / batches;
      lossSum.dispose();
      if (options.onProgress !== undefined) {
        const elapsedMs = performance.now() - start;
        const samplesTotal = samples + count * (options.epochs - epoch);
        const rate = samples / Math.max(elapsedMs, 1e-9);
        options.onProgress({
          epoch,
          epochs: options.epochs,
          batch: batches,
          batchesPerEpoch: batches,
          samplesDone: samples,
          samplesTotal,
          elapsedMs,
          etaMs: rate > 0 ? (samplesTotal - samples) / rate : Number.POSITIVE_INFINITY,
          samplesPerSecond: rate * 1000,
          loss: finalLoss,
        });
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    optimizer.dispose();
  }
  const elapsedMs = performance.now() - start;

  const releasedProbs = predictProbabilities(model, subsetFeatures(pool, released.indices));
  const studentArgmax = argmaxRows(releasedProbs, classes);
  const releasedArgmax = argmaxRows(labelledTargets, classes);
  let agree = 0;
  for (let i = 0; i < n; i++) if (studentArgmax[i] === releasedArgmax[i]) agree += 1;
  return {
    model,
    metrics: {
      labelled: n,
      pseudoLabelled,
      agreementWithReleased: n === 0 ? Number.NaN : agree / n,
      holdoutAccuracy: options.holdout === undefined ? undefined : evaluateAccuracy(model, options.holdout),
      samples,
      elapsedMs,
      finalLoss,
    },
  };
}

function subsetFeatures(pool: Dataset, rows: Int32Array): Float32Array {
  const d = featureSize(pool.shape);
  const out = new Float32Array(rows.length * d);
  for (let i = 0; i < rows.length; i++) out.set(pool.features.subarray(rows[i] * d, (rows[i] + 1) * d), i * d);
  return out;
}
