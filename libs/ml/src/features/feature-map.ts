import * as tf from '@tensorflow/tfjs';
import { applyProjection, checkLinearProjection, type LinearProjection, PROJECTION_LAYER, setProjection } from '../models/mlp';
import { fitPca } from './pca';

/**
 * Oriented edge energy: a fixed, hand-designed first layer for small grey-level images (no
 * learning, no data). Each image is filtered with first-derivative-of-Gaussian filters at
 * `sigmas` × `orientations` (elongated 1.5× along the edge, unit L2 norm); both half-wave
 * rectifications relu(±r) are kept, average-pooled over `cell` × `cell` cells and over
 * `globalCell` × `globalCell` cells, and square-rooted (energy → amplitude). With teachers that see
 * a few hundred images each, these features lift accuracy by several points over raw pixels.
 */
export interface EdgeEnergySpec {
  readonly kind: 'edge-energy';
  readonly imageShape: readonly [number, number];
  readonly sigmas: readonly number[];
  readonly orientations: number;
  readonly kernelSize: number;
  readonly cell: number;
  readonly globalCell: number;
}

/** The edge features used for Fashion-MNIST-sized images (28 × 28). */
export const DEFAULT_EDGE_ENERGY: EdgeEnergySpec = {
  kind: 'edge-energy',
  imageShape: [28, 28],
  sigmas: [0.8, 1.6],
  orientations: 8,
  kernelSize: 7,
  cell: 4,
  globalCell: 14,
};

/** Features per image. */
export function edgeEnergySize(spec: EdgeEnergySpec): number {
  const [h, w] = spec.imageShape;
  const channels = 2 * spec.sigmas.length * spec.orientations;
  return (
    channels * (Math.floor(h / spec.cell) * Math.floor(w / spec.cell) + Math.floor(h / spec.globalCell) * Math.floor(w / spec.globalCell))
  );
}

/** Why `spec` is unusable, or null. */
export function edgeEnergyProblem(spec: EdgeEnergySpec): string | null {
  const [h, w] = spec.imageShape ?? [];
  const positiveInt = (v: unknown): boolean => Number.isInteger(v) && (v as number) > 0;
  if (!positiveInt(h) || !positiveInt(w)) return 'edges.imageShape must be two positive integers';
  if (!Array.isArray(spec.sigmas) || spec.sigmas.length === 0 || !spec.sigmas.every((s) => Number.isFinite(s) && s > 0)) {
    return 'edges.sigmas must be positive numbers';
  }
  if (!positiveInt(spec.orientations) || spec.orientations > 32) return 'edges.orientations must be an integer in [1, 32]';
  if (!positiveInt(spec.kernelSize) || spec.kernelSize % 2 === 0 || spec.kernelSize > 31) return 'edges.kernelSize must be odd, at most 31';
  if (!positiveInt(spec.cell) || spec.cell > Math.min(h, w)) return 'edges.cell must be a positive integer no larger than the image';
  if (!positiveInt(spec.globalCell) || spec.globalCell > Math.min(h, w))
    return 'edges.globalCell must be a positive integer no larger than the image';
  return null;
}

/** The filter bank as a [k, k, 1, sigmas × orientations] tensor (caller disposes). */
export function edgeEnergyFilters(spec: EdgeEnergySpec): tf.Tensor4D {
  const size = spec.kernelSize;
  const r = (size - 1) / 2;
  const count = spec.sigmas.length * spec.orientations;
  const w = new Float32Array(size * size * count);
  let f = 0;
  for (const s of spec.sigmas) {
    for (let b = 0; b < spec.orientations; b++) {
      const theta = (Math.PI * b) / spec.orientations;
      const c = Math.cos(theta);
      const sn = Math.sin(theta);
      let norm = 0;
      for (let y = -r; y <= r; y++) {
        for (let x = -r; x <= r; x++) {
          const u = x * c + y * sn;
          const v = -x * sn + y * c;
          const g = (-u / (s * s)) * Math.exp(-(u * u) / (2 * s * s) - (v * v) / (2 * (1.5 * s) ** 2));
          w[((y + r) * size + (x + r)) * count + f] = g;
          norm += g * g;
        }
      }
      norm = Math.sqrt(norm);
      for (let k = 0; k < size * size; k++) w[k * count + f] /= norm;
      f++;
    }
  }
  return tf.tensor4d(w, [size, size, 1, count]);
}

/** Edge features of a batch tensor [n, h·w] (or [n, h, w, 1]) → [n, edgeEnergySize]. */
export function edgeEnergyTensor(spec: EdgeEnergySpec, images: tf.Tensor, filters: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [h, w] = spec.imageShape;
    const n = images.shape[0];
    const x = images.reshape<tf.Tensor4D>([n, h, w, 1]);
    const r = tf.conv2d(x, filters, 1, 'same');
    const both = tf.concat<tf.Tensor4D>([tf.relu(r), tf.relu(tf.neg(r))], 3);
    const local = tf.avgPool(both, spec.cell, spec.cell, 'valid').reshape([n, -1]);
    const global = tf.avgPool(both, spec.globalCell, spec.globalCell, 'valid').reshape([n, -1]);
    return tf.sqrt<tf.Tensor2D>(tf.add(tf.concat([local, global], 1), 1e-6));
  });
}

/** Edge features of row-major images (n × h·w, scaled like the training inputs), in chunks. */
export function edgeEnergy(spec: EdgeEnergySpec, images: Float32Array): Float32Array {
  const [h, w] = spec.imageShape;
  const n = images.length / (h * w);
  if (!Number.isInteger(n)) throw new Error(`edgeEnergy: ${images.length} values is not a whole number of ${h} × ${w} images`);
  const dim = edgeEnergySize(spec);
  const out = new Float32Array(n * dim);
  const filters = edgeEnergyFilters(spec);
  try {
    const chunk = 2000;
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      const y = tf.tidy(() =>
        edgeEnergyTensor(spec, tf.tensor2d(images.subarray(start * h * w, end * h * w), [end - start, h * w]), filters),
      );
      out.set(y.dataSync(), start * dim);
      y.dispose();
    }
  } finally {
    filters.dispose();
  }
  return out;
}

/**
 * A public feature map: optional edge energy, then a linear projection (PCA of the public pool,
 * scaled to unit average variance per component). Fitted on PUBLIC data only, it is shared with
 * every site as a JSON file and costs no privacy; teachers and the student learn on its output.
 */
export interface FeatureMap {
  readonly kind: 'feature-map';
  readonly version: 1;
  /** Features of the raw (normalised) inputs the map takes. */
  readonly inputSize: number;
  readonly edges: EdgeEnergySpec | null;
  readonly projection: LinearProjection;
  readonly description: string;
}

/**
 * Fits a feature map on the public pool (row-major, inputSize features per example, normalised as
 * the teachers' inputs are). `components` principal components of the (edge) features.
 */
export function fitFeatureMap(
  publicPool: Float32Array,
  inputSize: number,
  options: { edges?: EdgeEnergySpec | null; components: number; description?: string; fitExamples?: number },
): FeatureMap {
  const edges = options.edges ?? null;
  if (edges !== null) {
    const problem = edgeEnergyProblem(edges);
    if (problem !== null) throw new Error(problem);
    if (edges.imageShape[0] * edges.imageShape[1] !== inputSize) {
      throw new Error(`edge features need ${edges.imageShape.join(' × ')} images, the inputs have ${inputSize} features`);
    }
  }
  // The components are fitted on at most `fitExamples` pool examples (the first ones): the
  // covariance of a few thousand is as good as of all, at a fraction of the time.
  const fitRows = Math.min(publicPool.length / inputSize, options.fitExamples ?? 5000);
  const sample = publicPool.subarray(0, fitRows * inputSize);
  const features = edges === null ? sample : edgeEnergy(edges, sample);
  const d = edges === null ? inputSize : edgeEnergySize(edges);
  const pca = fitPca(features, d, options.components, { covariance: 'tfjs', eigen: d > 1000 ? 'subspace' : 'full' });
  // One scale for all components: their average variance becomes 1 (Adam and He init like that).
  let variance = 0;
  for (const v of pca.explainedVariance) variance += v;
  const scale = 1 / Math.sqrt(Math.max(variance / options.components, 1e-12));
  return {
    kind: 'feature-map',
    version: 1,
    inputSize,
    edges,
    projection: {
      kind: 'linear-projection',
      inputSize: d,
      outputSize: options.components,
      mean: Array.from(pca.mean),
      basis: Array.from(pca.basis, (b) => b * scale),
      description: `PCA-${options.components}`,
    },
    description:
      options.description ??
      `${edges === null ? '' : 'edge energy, then '}PCA-${options.components} fitted on ${fitRows} examples of the public pool`,
  };
}

/** Why `map` cannot be applied to inputs of `inputSize` features, or null. */
export function featureMapProblem(map: FeatureMap, inputSize: number): string | null {
  if (map?.kind !== 'feature-map' || map.version !== 1) return 'not a feature map (kind "feature-map", version 1)';
  if (map.inputSize !== inputSize) return `the feature map takes ${map.inputSize} features, the data has ${inputSize}`;
  if (map.edges !== null) {
    const problem = edgeEnergyProblem(map.edges);
    if (problem !== null) return problem;
    if (map.edges.imageShape[0] * map.edges.imageShape[1] !== inputSize) return 'edges.imageShape does not match the input size';
  }
  const projected = map.edges === null ? inputSize : edgeEnergySize(map.edges);
  return checkLinearProjection(map.projection, projected);
}

/** Applies a feature map to row-major inputs; returns rows × projection.outputSize. */
export function applyFeatureMap(map: FeatureMap, inputs: Float32Array): Float32Array {
  const features = map.edges === null ? inputs : edgeEnergy(map.edges, inputs);
  return applyProjection(map.projection, features);
}

/**
 * The edge-energy step as a Keras-style layer, so that a model trained on a feature map can be
 * saved with the map inside it and fed raw inputs. Registered with tfjs under `ConcordEdgeEnergy`:
 * loading such a model needs @concord/ml (or this class) loaded first. No weights: the filters are
 * rebuilt from the spec.
 */
export class EdgeEnergyLayer extends tf.layers.Layer {
  static readonly className = 'ConcordEdgeEnergy';
  readonly spec: EdgeEnergySpec;
  private filters: tf.Tensor4D | null = null;

  constructor(config: { spec: EdgeEnergySpec; inputShape?: number[]; name?: string }) {
    super(config);
    this.spec = config.spec;
    this.trainable = false;
  }

  override computeOutputShape(inputShape: tf.Shape): tf.Shape {
    return [inputShape[0], edgeEnergySize(this.spec)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (this.filters === null) this.filters = tf.keep(edgeEnergyFilters(this.spec));
    return edgeEnergyTensor(this.spec, x, this.filters);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), spec: { ...this.spec, imageShape: [...this.spec.imageShape], sigmas: [...this.spec.sigmas] } };
  }
}
tf.serialization.registerClass(EdgeEnergyLayer);

/**
 * One model that takes raw (normalised) inputs: the feature map's layers (edge energy, then the
 * fixed projection, neither trained) followed by copies of `trained`'s dense layers, which were
 * trained on the map's output.
 */
export function withFeatureMap(trained: tf.LayersModel, map: FeatureMap): tf.Sequential {
  const model = tf.sequential({ name: 'student' });
  if (map.edges !== null) model.add(new EdgeEnergyLayer({ spec: map.edges, inputShape: [map.inputSize], name: 'edge_energy' }));
  model.add(
    tf.layers.dense({
      name: PROJECTION_LAYER,
      units: map.projection.outputSize,
      trainable: false,
      ...(map.edges === null ? { inputShape: [map.inputSize] } : {}),
    }),
  );
  const dense = trained.layers.filter((layer) => layer.getClassName() === 'Dense');
  for (const layer of dense) {
    const config = layer.getConfig();
    model.add(tf.layers.dense({ units: config.units as number, activation: config.activation as 'relu' | 'linear' }));
  }
  setProjection(model, map.projection);
  const targets = model.layers.filter((layer) => layer.getClassName() === 'Dense' && layer.name !== PROJECTION_LAYER);
  targets.forEach((layer, i) => layer.setWeights(dense[i].getWeights()));
  return model;
}
