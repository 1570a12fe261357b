import { mkdtempSync, readFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { loadModel, readModelMetadata, saveModel } from './io';
import { buildModel } from './models';
import { quadrants } from './testing/toy-data';
import { predictProbabilities, trainClassifier } from './train';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('saveModel / loadModel', () => {
  it('writes tfjs-node’s layout and loads a model that predicts identically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-model-'));
    const model = buildModel({ kind: 'mlp', inputSize: 2, hidden: [3], classes: 4 }, 9);
    await trainClassifier(model, quadrants(40, 1), { epochs: 2, batchSize: 8 });
    await saveModel(model, dir, { normalisation: { kind: 'none' }, classNames: ['a', 'b', 'c', 'd'] });

    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest).toHaveLength(1);
    expect(json.weightsManifest[0].paths).toEqual(['weights.bin']);
    // Dense 2→3 (6 + 3) and 3→4 (12 + 4): 25 float32 = 100 bytes.
    expect(statSync(join(dir, 'weights.bin')).size).toBe(100);
    expect(readModelMetadata(dir)).toEqual({ normalisation: { kind: 'none' }, classNames: ['a', 'b', 'c', 'd'] });

    const loaded = await loadModel(dir);
    const x = quadrants(16, 3).features;
    expect(Array.from(predictProbabilities(loaded, x))).toEqual(Array.from(predictProbabilities(model, x)));
  });

  it('refuses weights that do not match the manifest, naming the sizes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-model-'));
    await saveModel(buildModel({ kind: 'mlp', inputSize: 2, hidden: [3], classes: 4 }), dir);
    truncateSync(join(dir, 'weights.bin'), 96);
    await expect(loadModel(dir)).rejects.toThrow('weights hold 96 bytes, the manifest in model.json needs 100');
    await expect(loadModel(join(dir, 'missing'))).rejects.toThrow(/missing\/model\.json: cannot read \(ENOENT\)/);
  });
});
