import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { trainMlpBank } from './bank';
import type { Dataset } from './data/dataset';
import { quadrants } from './testing/toy-data';
import { evaluateAccuracy } from './train';

beforeAll(async () => {
  await selectBackend('wasm');
});

const spec = { kind: 'mlp' as const, inputSize: 2, hidden: [8], classes: 4 };
const range = (from: number, to: number): Int32Array => Int32Array.from({ length: to - from }, (_, i) => from + i);
const weightsOf = (model: { getWeights(): { dataSync(): ArrayLike<number> }[] }): number[] =>
  model.getWeights().flatMap((w) => Array.from(w.dataSync()));

describe('trainMlpBank', () => {
  it('trains every teacher to separate the quadrants', async () => {
    const data = quadrants(300, 1);
    const { models } = await trainMlpBank(data, [range(0, 100), range(100, 200), range(200, 300)], spec, {
      epochs: 40,
      batchSize: 16,
      learningRate: 0.01,
    });
    expect(models).toHaveLength(3);
    for (const model of models) expect(evaluateAccuracy(model, quadrants(100, 2))).toBeGreaterThanOrEqual(0.97);
  });

  it("keeps teachers independent: a teacher's weights depend only on its own partition", async () => {
    // Teacher 0 has the same partition in both banks; teacher 1's differs (same size: the largest
    // partition's size sets the steps per epoch and is public).
    const data = quadrants(300, 4);
    const options = { epochs: 5, batchSize: 8, learningRate: 0.01, seed: 3 };
    const a = await trainMlpBank(data, [range(0, 44), range(44, 88)], spec, options);
    const b = await trainMlpBank(data, [range(0, 44), range(150, 194)], spec, options);
    const a0 = weightsOf(a.models[0]);
    const b0 = weightsOf(b.models[0]);
    expect(a0.length).toBeGreaterThan(0);
    a0.forEach((w, i) => expect(w).toBeCloseTo(b0[i], 5));
    // …and the teacher whose partition changed did change.
    const a1 = weightsOf(a.models[1]);
    const b1 = weightsOf(b.models[1]);
    expect(a1.some((w, i) => Math.abs(w - b1[i]) > 1e-3)).toBe(true);
  });

  it('refuses bad partitions and mismatched inputs', async () => {
    const data: Dataset = quadrants(20, 1);
    await expect(trainMlpBank(data, [], spec, { epochs: 1, batchSize: 4 })).rejects.toThrow(/no partitions/);
    await expect(trainMlpBank(data, [new Int32Array(0)], spec, { epochs: 1, batchSize: 4 })).rejects.toThrow(/partition 0 is empty/);
    await expect(trainMlpBank(data, [Int32Array.from([0, 25])], spec, { epochs: 1, batchSize: 4 })).rejects.toThrow(/row 25, outside/);
    await expect(trainMlpBank(data, [range(0, 5)], { ...spec, inputSize: 3 }, { epochs: 1, batchSize: 4 })).rejects.toThrow(/2 features/);
  });
});
