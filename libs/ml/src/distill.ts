import * as tf from '@tensorflow/tfjs';
import { type Dataset, featureSize } from './data/dataset';
import { type ModelSpec, buildModel, inputShapeOf } from './models';
import { argmaxRows, evaluateAccuracy, gatherInputs, predictProbabilities, runTrainingLoop, type TrainingProgress } from './train';

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
 */
export async function distillStudent(options: DistillOptions): Promise<DistillResult> {
  const { pool, released, spec } = options;
  const classes = spec.classes;
  const shape = inputShapeOf(spec);
  if (featureSize(shape) !== featureSize(pool.shape)) {
    throw new Error(`student expects examples of shape [${shape.join(', ')}], pool has [${pool.shape.join(', ')}]`);
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
  let samples = 0;
  let elapsedMs = 0;
  let finalLoss = Number.NaN;
  let pseudoLabelled = 0;
  const semi = options.semiSupervised;
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
    const weight = semi?.weight ?? 0;
    const result = await runTrainingLoop(
      model,
      {
        count: n + pseudoRows.length,
        lossFor: (indices, m) => {
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
          const x = gatherInputs(pool.features, shape, poolRows);
          const logits = m.apply(x, { training: true }) as tf.Tensor;
          const scaled = tf.div(logits, tf.tensor2d(temps, [b, 1]));
          const ce = tf.neg(tf.sum(tf.mul(tf.tensor2d(targets, [b, classes]), tf.logSoftmax(scaled)), 1));
          return tf.div(tf.sum(tf.mul(ce, tf.tensor1d(weights))), b);
        },
      },
      {
        epochs: 1,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        seed: seed + epoch,
        onProgress: options.onProgress === undefined ? undefined : (p) => options.onProgress?.({ ...p, epoch, epochs: options.epochs }),
      },
    );
    samples += result.samples;
    elapsedMs += result.elapsedMs;
    finalLoss = result.finalLoss;
  }

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
