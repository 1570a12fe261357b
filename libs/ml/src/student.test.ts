import { describe, expect, it } from 'vitest';
import { trainStudentInWorker } from './student';

/** Two well-separated classes in 2-D: x0 > x1 ⇒ class 1. */
function toy(n: number, offset: number): { features: Float32Array; labels: Int32Array } {
  const features = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = ((i * 37 + offset) % 100) / 100;
    const b = ((i * 61 + offset * 3) % 100) / 100;
    const cls = a > b ? 1 : 0;
    features[2 * i] = cls ? a + 0.5 : a;
    features[2 * i + 1] = cls ? b : b + 0.5;
    labels[i] = cls;
  }
  return { features, labels };
}

/** A student of the toy pool (200 rows) with a 100-row holdout, trained on the true labels of `answered`. */
function toyTraining(answered: number[]) {
  const pool = toy(200, 1);
  const holdout = toy(100, 7);
  return {
    pool: { ...pool, shape: [2], count: 200, classes: 2 },
    holdout: { ...holdout, shape: [2], count: 100, classes: 2 },
    released: { kind: 'hard', indices: Int32Array.from(answered), labels: Int32Array.from(answered.map((i) => pool.labels[i])) },
    spec: { kind: 'mlp', inputSize: 2, hidden: [16], classes: 2 },
    epochs: 30,
    batchSize: 32,
    backend: 'cpu',
  } as const;
}

describe('trainStudentInWorker', () => {
  it('trains in a worker thread on the answered queries and returns tfjs-node-layout artifacts', async () => {
    const answered = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 3 !== 0);
    const result = await trainStudentInWorker({ ...toyTraining(answered), epochs: 30 });
    expect(result.metrics.labelled).toBe(answered.length);
    expect(result.metrics.holdoutAccuracy).toBeGreaterThan(0.95);
    expect(result.parameters).toBe(2 * 16 + 16 + 16 * 2 + 2);
    expect(result.modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(result.weights.byteLength).toBe(result.parameters * 4);
  });

  it('returns the feature map it fitted; given it back, trains the same student without refitting, and predicts the pool on request', async () => {
    const answered = Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 2 === 0);
    const options = { ...toyTraining(answered), epochs: 20, features: { kind: 'pca', components: 2 } } as const;
    const first = await trainStudentInWorker(options);
    expect(first.fittedFeatures?.pool).toHaveLength(200 * 2);
    expect(first.fittedFeatures?.holdout).toHaveLength(100 * 2);
    expect(first.poolProbabilities).toHaveLength(0);
    const again = await trainStudentInWorker({ ...options, fitted: first.fittedFeatures!, predictPool: true });
    expect(again.fittedFeatures).toBeUndefined();
    expect(Array.from(again.holdoutPredictions)).toEqual(Array.from(first.holdoutPredictions));
    expect(again.metrics.holdoutAccuracy).toBe(first.metrics.holdoutAccuracy);
    expect(again.poolProbabilities).toHaveLength(200 * 2);
    // A map fitted on another pool is refused.
    const other = { ...first.fittedFeatures!, pool: first.fittedFeatures!.pool.subarray(0, 100) };
    await expect(trainStudentInWorker({ ...options, fitted: other })).rejects.toThrow(/does not match this pool/);
  });
});
