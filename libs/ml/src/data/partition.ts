import { type Dataset, DatasetError } from './dataset';
import { seededPermutation } from './prng';

/**
 * k disjoint teacher partitions. A record in exactly one teacher is what makes PATE's per-record
 * guarantee hold, so the partitioning is recorded with its seed and can be re-derived and audited.
 */
export interface Partitioning {
  readonly seed: number;
  readonly k: number;
  /** parts[t] are the example indices of teacher t, ascending. Disjoint; together all indices. */
  readonly parts: Int32Array[];
}

/**
 * Splits `dataset` (or `count` examples) into k disjoint partitions whose sizes differ by at most
 * one: a seeded permutation dealt round-robin. Deterministic in (count, k, seed).
 */
export function partition(dataset: Dataset | number, k: number, seed: number): Partitioning {
  const count = typeof dataset === 'number' ? dataset : dataset.count;
  if (!Number.isInteger(k) || k < 1) throw new DatasetError(`partition: k must be a positive integer, got ${k}`);
  if (k > count) throw new DatasetError(`partition: cannot split ${count} examples into ${k} non-empty partitions`);
  const order = seededPermutation(count, seed);
  const parts: Int32Array[] = [];
  for (let t = 0; t < k; t++) {
    const size = Math.floor(count / k) + (t < count % k ? 1 : 0);
    const part = new Int32Array(size);
    for (let j = 0; j < size; j++) part[j] = order[t + j * k];
    parts.push(part.sort());
  }
  return { seed, k, parts };
}

export interface HoldoutSplit {
  readonly seed: number;
  readonly train: Int32Array;
  readonly holdout: Int32Array;
}

/**
 * A seeded held-out split: `holdout` is a fraction in (0, 1) or an example count.
 * Indices ascending in each part.
 */
export function holdoutSplit(dataset: Dataset | number, holdout: number, seed: number): HoldoutSplit {
  const count = typeof dataset === 'number' ? dataset : dataset.count;
  const size = holdout > 0 && holdout < 1 ? Math.round(count * holdout) : holdout;
  if (!Number.isInteger(size) || size < 0 || size > count) {
    throw new DatasetError(`holdoutSplit: holdout must be a fraction in (0, 1) or a count in [0, ${count}], got ${holdout}`);
  }
  const order = seededPermutation(count, seed);
  return { seed, holdout: order.slice(0, size).sort(), train: order.slice(size).sort() };
}
