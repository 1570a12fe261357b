import * as tf from '@tensorflow/tfjs';

/** A multilayer perceptron on flat feature vectors, e.g. 784-256-10. Trains on every backend. */
export interface MlpSpec {
  readonly kind: 'mlp';
  readonly inputSize: number;
  /** Hidden layer widths (ReLU), e.g. [256]. */
  readonly hidden: readonly number[];
  readonly classes: number;
  /** Dropout after each hidden layer; default 0. */
  readonly dropout?: number;
  /**
   * A fixed linear first layer (inputSize → outputSize, not trained), e.g. a PCA fitted on public
   * data: the features are then part of the model, so whoever runs it feeds raw inputs. Its
   * weights are set with `setProjection`.
   */
  readonly projection?: { readonly outputSize: number };
}

/**
 * A public, fixed linear feature map: y = basis · (x − mean). `basis` is outputSize × inputSize,
 * row-major. Fitted on PUBLIC data only (the unlabeled pool), so sharing it with every site and
 * baking it into every model costs no privacy.
 */
export interface LinearProjection {
  readonly kind: 'linear-projection';
  readonly inputSize: number;
  readonly outputSize: number;
  readonly mean: readonly number[];
  readonly basis: readonly number[];
  /** What it was fitted on, for the record (e.g. "PCA-50 of the public pool, 9000 examples"). */
  readonly description: string;
}

export const PROJECTION_LAYER = 'projection';

/** Outputs LOGITS (linear last layer); use predictProbabilities for probabilities. */
export function buildMlp(spec: MlpSpec, seed: number): tf.Sequential {
  const model = tf.sequential({ name: 'mlp' });
  let first = true;
  if (spec.projection !== undefined) {
    model.add(
      tf.layers.dense({
        name: PROJECTION_LAYER,
        units: spec.projection.outputSize,
        inputShape: [spec.inputSize],
        trainable: false,
        kernelInitializer: 'zeros',
      }),
    );
    first = false;
  }
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        ...(first && i === 0 ? { inputShape: [spec.inputSize] } : {}),
      }),
    );
    if ((spec.dropout ?? 0) > 0) model.add(tf.layers.dropout({ rate: spec.dropout ?? 0, seed: seed + 1000 + i }));
  });
  model.add(
    tf.layers.dense({
      units: spec.classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + spec.hidden.length }),
      ...(first && spec.hidden.length === 0 ? { inputShape: [spec.inputSize] } : {}),
    }),
  );
  return model;
}

/** Checks a projection against a spec's projection layer; throws naming what disagrees. */
export function checkProjection(spec: MlpSpec, projection: LinearProjection): void {
  if (spec.projection === undefined) throw new Error('the model has no projection layer');
  const problem = checkLinearProjection(projection, spec.inputSize);
  if (problem !== null) throw new Error(problem);
  if (projection.outputSize !== spec.projection.outputSize) {
    throw new Error(`projection gives ${projection.outputSize} features, the model expects ${spec.projection.outputSize}`);
  }
}

/** Why `p` is not a usable projection of `inputSize` features, or null. */
export function checkLinearProjection(p: LinearProjection, inputSize: number): string | null {
  if (p?.kind !== 'linear-projection') return 'projection: expected kind "linear-projection"';
  if (p.inputSize !== inputSize) return `projection takes ${p.inputSize} features, expected ${inputSize}`;
  if (!Number.isInteger(p.outputSize) || p.outputSize < 1) return 'projection outputSize must be a positive integer';
  if (!Array.isArray(p.mean) || p.mean.length !== p.inputSize) return `projection mean must have ${p.inputSize} values`;
  if (!Array.isArray(p.basis) || p.basis.length !== p.inputSize * p.outputSize) {
    return `projection basis must have ${p.inputSize * p.outputSize} values`;
  }
  if (!p.mean.every(Number.isFinite) || !p.basis.every(Number.isFinite)) return 'projection has a non-finite value';
  return null;
}

/** Sets the fixed first layer of a model built from a spec with `projection`. */
export function setProjection(model: tf.LayersModel, projection: LinearProjection): void {
  const layer = model.getLayer(PROJECTION_LAYER);
  const { inputSize: d, outputSize: k, mean, basis } = projection;
  const kernel = new Float32Array(d * k);
  const bias = new Float32Array(k);
  for (let c = 0; c < k; c++) {
    let shift = 0;
    for (let j = 0; j < d; j++) {
      kernel[j * k + c] = basis[c * d + j];
      shift += basis[c * d + j] * mean[j];
    }
    bias[c] = -shift;
  }
  const w = tf.tensor2d(kernel, [d, k]);
  const b = tf.tensor1d(bias);
  layer.setWeights([w, b]);
  w.dispose();
  b.dispose();
}

/** y = basis · (x − mean) for row-major rows of inputSize, computed with the active tfjs backend. */
export function applyProjection(projection: LinearProjection, features: Float32Array): Float32Array {
  const { inputSize: d, outputSize: k } = projection;
  const rows = features.length / d;
  if (!Number.isInteger(rows)) throw new Error(`applyProjection: ${features.length} values is not a whole number of rows of ${d}`);
  const out = new Float32Array(rows * k);
  const basisT = tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(projection.basis), [k, d])));
  const mean = tf.tensor1d(Float32Array.from(projection.mean));
  try {
    const chunk = 8192;
    for (let start = 0; start < rows; start += chunk) {
      const end = Math.min(rows, start + chunk);
      const y = tf.tidy(() => tf.matMul(tf.sub(tf.tensor2d(features.subarray(start * d, end * d), [end - start, d]), mean), basisT));
      out.set(y.dataSync(), start * k);
      y.dispose();
    }
  } finally {
    basisT.dispose();
    mean.dispose();
  }
  return out;
}
