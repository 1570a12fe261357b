import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { seededRandom } from './data/prng';
import { distillStudent } from './distill';
import type { LinearProjection } from './models';
import { augmentRows, transformImage } from './semi/augment';
import { quadrants } from './testing/toy-data';

const spec = { kind: 'mlp', inputSize: 2, hidden: [16], classes: 4 } as const;
const pool = { ...quadrants(200, 11), labels: new Int32Array(200).fill(-1) };
const truth = quadrants(200, 11).labels;
const holdout = quadrants(100, 12);

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('distillStudent', () => {
  it('learns a separable task from hard labels on the answered queries only', async () => {
    // Answered: queries 50..149 (all four classes), with true labels (a perfect aggregator);
    // the other 100 stay unlabeled.
    const indices = Int32Array.from({ length: 100 }, (_, i) => 50 + i);
    const { model, metrics } = await distillStudent({
      pool,
      released: { kind: 'hard', indices, labels: Int32Array.from(indices, (q) => truth[q]) },
      spec,
      epochs: 40,
      batchSize: 16,
      learningRate: 0.01,
      holdout,
    });
    expect(metrics.labelled).toBe(100);
    expect(metrics.pseudoLabelled).toBe(0);
    expect(metrics.agreementWithReleased).toBe(1);
    expect(metrics.holdoutAccuracy).toBe(1);
    expect(model.outputs[0].shape).toEqual([null, 4]);
  });

  it('learns from noisy soft scores (vote counts) at a temperature', async () => {
    // 10 teacher votes per query: 7 for the true class, 1 for each other class, plus ±0.5 noise.
    const indices = Int32Array.from({ length: 200 }, (_, i) => i);
    const scores = new Float32Array(200 * 4);
    for (let q = 0; q < 200; q++) {
      for (let c = 0; c < 4; c++) scores[q * 4 + c] = (c === truth[q] ? 7 : 1) + (q % 2 === 0 ? 0.5 : -0.5) * (c % 2 === 0 ? 1 : -1);
    }
    const { metrics } = await distillStudent({
      pool,
      released: { kind: 'soft', indices, noisyScores: scores, temperature: 2 },
      spec,
      epochs: 40,
      batchSize: 16,
      learningRate: 0.01,
      holdout,
    });
    expect(metrics.agreementWithReleased).toBe(1);
    expect(metrics.holdoutAccuracy).toBe(1);
  });

  it('pseudo-labels confident unlabeled pool examples, and none above an impossible threshold', async () => {
    const indices = Int32Array.from({ length: 40 }, (_, i) => i);
    const released = { kind: 'hard', indices, labels: Int32Array.from(indices, (q) => truth[q]) } as const;
    const base = { pool, released, spec, epochs: 20, batchSize: 16, learningRate: 0.01, holdout };
    const semi = await distillStudent({ ...base, semiSupervised: { kind: 'pseudo-label', threshold: 0.5, weight: 0.5, startEpoch: 10 } });
    expect(semi.metrics.pseudoLabelled).toBeGreaterThan(0);
    expect(semi.metrics.pseudoLabelled).toBeLessThanOrEqual(160);
    expect(semi.metrics.holdoutAccuracy).toBe(1);
    const never = await distillStudent({
      ...base,
      epochs: 2,
      semiSupervised: { kind: 'pseudo-label', threshold: 1.01, weight: 1, startEpoch: 1 },
    });
    expect(never.metrics.pseudoLabelled).toBe(0);
    // 2 epochs over the 40 labelled examples only.
    expect(never.metrics.samples).toBe(80);
  });

  it('refuses a query released twice and labels outside the classes', async () => {
    const base = { pool, spec, epochs: 1, batchSize: 8 };
    await expect(
      distillStudent({ ...base, released: { kind: 'hard', indices: Int32Array.from([3, 3]), labels: Int32Array.from([0, 0]) } }),
    ).rejects.toThrow('pool example 3 has two released labels');
    await expect(
      distillStudent({ ...base, released: { kind: 'hard', indices: Int32Array.from([1]), labels: Int32Array.from([4]) } }),
    ).rejects.toThrow('released label 4 is outside [0, 4)');
  });

  it('augments image rows in pixel space and trains through a fixed projection layer', async () => {
    // 5 × 5 images of one bar: class 0 horizontal, class 1 vertical. Flips and ±1 shifts keep the class.
    const side = 5;
    const bars = (count: number, seed: number): { features: Float32Array; labels: Int32Array } => {
      const random = seededRandom(seed);
      const features = new Float32Array(count * side * side);
      const labels = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        labels[i] = i % 2;
        const at = 1 + Math.floor(random() * 3);
        for (let k = 0; k < side; k++) features[i * 25 + (labels[i] === 0 ? at * side + k : k * side + at)] = 1;
      }
      return { features, labels };
    };
    const train = bars(60, 3);
    const test = bars(40, 4);
    const identity: LinearProjection = {
      kind: 'linear-projection',
      inputSize: 25,
      outputSize: 25,
      mean: new Array<number>(25).fill(0.2),
      basis: Array.from({ length: 625 }, (_, i) => (Math.floor(i / 25) === i % 25 ? 1 : 0)),
      description: 'identity around 0.2',
    };
    const imageSpec = { kind: 'mlp', inputSize: 25, hidden: [16], classes: 2, projection: { outputSize: 25 } } as const;
    const imagePool = { features: train.features, labels: new Int32Array(60).fill(-1), shape: [25], count: 60, classes: 2 };
    const indices = Int32Array.from({ length: 20 }, (_, i) => i);
    const base = {
      pool: imagePool,
      released: { kind: 'hard', indices, labels: Int32Array.from(indices, (q) => train.labels[q]) } as const,
      spec: imageSpec,
      epochs: 30,
      batchSize: 8,
      learningRate: 0.02,
      holdout: { features: test.features, labels: test.labels, shape: [25], count: 40, classes: 2 },
    };
    const { model, metrics } = await distillStudent({
      ...base,
      projection: identity,
      augment: { imageShape: [5, 5], flip: true, shift: 1 },
    });
    expect(metrics.holdoutAccuracy).toBe(1);
    // The projection is part of the returned model, unchanged by training.
    const weights = model.getLayer('projection').getWeights();
    expect(Array.from(weights[1].dataSync())).toEqual(new Array<number>(25).fill(-0.2).map((v) => Math.fround(v)));
    await expect(distillStudent(base)).rejects.toThrow('pass its weights as `projection`');
    await expect(distillStudent({ ...base, projection: identity, augment: { imageShape: [4, 4], flip: true, shift: 1 } })).rejects.toThrow(
      'images of 4 × 4 need 16 features per row, the pool has 25',
    );
  });
});

describe('augmentRows', () => {
  // 2 × 3 image: [[1, 2, 3], [4, 5, 6]].
  const image = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const transformed = (flip: boolean, dx: number, dy: number): number[] => {
    const out = new Float32Array(6);
    transformImage(image, 0, out, 0, [2, 3], flip, dx, dy, -1);
    return Array.from(out);
  };

  it('flips left-right and shifts with the fill value coming in', () => {
    expect(transformed(false, 0, 0)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(transformed(true, 0, 0)).toEqual([3, 2, 1, 6, 5, 4]);
    expect(transformed(false, 1, 0)).toEqual([-1, 1, 2, -1, 4, 5]);
    expect(transformed(false, 0, -1)).toEqual([4, 5, 6, -1, -1, -1]);
    expect(transformed(true, 1, 0)).toEqual([-1, 3, 2, -1, 6, 5]);
  });

  it('is the identity without flips or shifts, and reproducible from the seed otherwise', () => {
    const pool = Float32Array.from({ length: 4 * 6 }, (_, i) => i);
    const rows = [3, 0, 3];
    const same = augmentRows(pool, rows, { imageShape: [2, 3], flip: false, shift: 0 }, seededRandom(1));
    expect(Array.from(same)).toEqual([...pool.subarray(18, 24), ...pool.subarray(0, 6), ...pool.subarray(18, 24)]);
    const augment = { imageShape: [2, 3], flip: true, shift: 1 } as const;
    const a = augmentRows(pool, rows, augment, seededRandom(9));
    expect(Array.from(augmentRows(pool, rows, augment, seededRandom(9)))).toEqual(Array.from(a));
    const draws = Array.from({ length: 20 }, (_, s) => Array.from(augmentRows(pool, [1], augment, seededRandom(s))).join());
    expect(new Set(draws).size).toBeGreaterThan(3);
  });
});
