import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import type { Dataset } from './data/dataset';
import { buildModel } from './models';
import { quadrants } from './testing/toy-data';
import { type TrainingProgress, argmaxRows, evaluateAccuracy, predictProbabilities, trainClassifier } from './train';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('trainClassifier', () => {
  it('reaches 100% on a linearly separable problem, train and holdout', async () => {
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [16], classes: 4 }, 3);
    await trainClassifier(model, quadrants(200, 1), { epochs: 40, batchSize: 16, learningRate: 0.01 });
    expect(evaluateAccuracy(model, quadrants(200, 1))).toBe(1);
    expect(evaluateAccuracy(model, quadrants(100, 2))).toBe(1);
  });

  it('reports progress per epoch with samples done, total, elapsed and ETA', async () => {
    const events: TrainingProgress[] = [];
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [4], classes: 4 });
    const result = await trainClassifier(model, quadrants(50, 1), { epochs: 3, batchSize: 20, onProgress: (p) => events.push(p) });
    // 50 examples in batches of 20 → 3 batches per epoch; 3 epochs → 150 samples.
    expect(events.map((e) => [e.epoch, e.batch, e.batchesPerEpoch, e.samplesDone, e.samplesTotal])).toEqual([
      [1, 3, 3, 50, 150],
      [2, 3, 3, 100, 150],
      [3, 3, 3, 150, 150],
    ]);
    expect(events[2].etaMs).toBe(0);
    expect(events[0].etaMs).toBeGreaterThan(0);
    expect(events.every((e) => e.elapsedMs > 0 && Number.isFinite(e.loss))).toBe(true);
    expect(result.samples).toBe(150);
  });

  it('reports progress per batch when asked', async () => {
    const done: number[] = [];
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [4], classes: 4 });
    await trainClassifier(model, quadrants(50, 1), {
      epochs: 1,
      batchSize: 20,
      progressEvery: 'batch',
      onProgress: (p) => done.push(p.samplesDone),
    });
    expect(done).toEqual([20, 40, 50]);
  });

  it('predicts probability rows that sum to 1 and sharpen as the temperature falls', () => {
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [4], classes: 4 });
    const x = quadrants(8, 5).features;
    const p1 = predictProbabilities(model, x);
    const pCold = predictProbabilities(model, x, { temperature: 0.1 });
    for (let r = 0; r < 8; r++) {
      expect(p1.subarray(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(Math.max(...pCold.subarray(r * 4, r * 4 + 4))).toBeGreaterThanOrEqual(Math.max(...p1.subarray(r * 4, r * 4 + 4)));
    }
    expect(Array.from(argmaxRows(p1, 4))).toEqual(Array.from(argmaxRows(pCold, 4)));
  });

  it('does not leak tensors', async () => {
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [4], classes: 4 });
    const before = tf.memory().numTensors;
    await trainClassifier(model, quadrants(40, 1), { epochs: 2, batchSize: 8 });
    predictProbabilities(model, quadrants(8, 1).features);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses to build a CNN for wasm training, and trains one on cpu', async () => {
    const spec = { kind: 'cnn', inputShape: [4, 4, 1], filters: [2], dense: 4, classes: 2 } as const;
    expect(() => buildModel(spec, 1, 'wasm')).toThrow(/cannot train on the wasm backend/);
    await selectBackend('cpu');
    try {
      // Bright top half → class 0, bright bottom half → class 1.
      const features = new Float32Array(8 * 16);
      const labels = new Int32Array(8);
      for (let i = 0; i < 8; i++) {
        labels[i] = i % 2;
        for (let p = 0; p < 16; p++) features[i * 16 + p] = p < 8 === (labels[i] === 0) ? 1 : 0;
      }
      const data: Dataset = { features, labels, shape: [4, 4, 1], count: 8, classes: 2 };
      const model = buildModel(spec, 1, 'cpu');
      await trainClassifier(model, data, { epochs: 30, batchSize: 8, learningRate: 0.05 });
      expect(evaluateAccuracy(model, data)).toBe(1);
    } finally {
      await selectBackend('wasm');
    }
  });
});
