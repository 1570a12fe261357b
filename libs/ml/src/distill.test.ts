import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { distillStudent } from './distill';
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
});
