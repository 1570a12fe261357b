/**
 * The in-memory dataset every loader produces and every trainer consumes.
 *
 * Features are one Float32Array, row-major: example i occupies
 * `features[i * featureSize(shape) ... (i + 1) * featureSize(shape))`. `shape` is the shape of ONE
 * example (`[784]` for flat vectors, `[28, 28, 1]` for images), not including the example axis.
 */
export interface Dataset {
  readonly features: Float32Array;
  /** One class index in [0, classes) per example. Unlabeled pools carry -1. */
  readonly labels: Int32Array;
  /** Shape of one example. */
  readonly shape: readonly number[];
  readonly count: number;
  readonly classes: number;
  /** Optional names of the classes, index-aligned (e.g. from a CSV's label strings). */
  readonly classNames?: readonly string[];
}

/** An error in input data; its message names the file (and line, for CSV) and what is wrong. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

export function featureSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Checks that the arrays agree with the declared shape, count and classes. */
export function checkDataset(dataset: Dataset, name = 'dataset'): Dataset {
  const size = featureSize(dataset.shape);
  if (!Number.isInteger(dataset.count) || dataset.count < 0) {
    throw new DatasetError(`${name}: count must be a non-negative integer, got ${dataset.count}`);
  }
  if (dataset.features.length !== dataset.count * size) {
    throw new DatasetError(
      `${name}: expected ${dataset.count} × ${size} = ${dataset.count * size} feature values, got ${dataset.features.length}`,
    );
  }
  if (dataset.labels.length !== dataset.count) {
    throw new DatasetError(`${name}: expected ${dataset.count} labels, got ${dataset.labels.length}`);
  }
  for (let i = 0; i < dataset.count; i++) {
    const label = dataset.labels[i];
    if (label !== -1 && (label < 0 || label >= dataset.classes)) {
      throw new DatasetError(`${name}: label ${label} of example ${i} is outside [0, ${dataset.classes})`);
    }
  }
  return dataset;
}

/** The examples at `indices`, copied, in that order. */
export function subset(dataset: Dataset, indices: ArrayLike<number>): Dataset {
  const size = featureSize(dataset.shape);
  const features = new Float32Array(indices.length * size);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i];
    if (!Number.isInteger(source) || source < 0 || source >= dataset.count) {
      throw new DatasetError(`subset: index ${source} is outside [0, ${dataset.count})`);
    }
    features.set(dataset.features.subarray(source * size, (source + 1) * size), i * size);
    labels[i] = dataset.labels[source];
  }
  return { ...dataset, features, labels, count: indices.length };
}

/** The same examples seen as flat vectors (`[28, 28, 1]` → `[784]`), sharing the arrays. */
export function flatten(dataset: Dataset): Dataset {
  return { ...dataset, shape: [featureSize(dataset.shape)] };
}

/** Examples per class, for balance checks and reports. */
export function classCounts(dataset: Dataset): number[] {
  const counts = new Array<number>(dataset.classes).fill(0);
  for (const label of dataset.labels) if (label >= 0) counts[label] += 1;
  return counts;
}
