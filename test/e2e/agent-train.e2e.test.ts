import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeIdx } from '@concord/ml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAgent } from '../support/agent-harness';

describe('concord-agent train', () => {
  let dir: string;
  let images: string;
  let labels: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'concord-train-'));
    // 90 4×4 "images": class 1 is bright in the top half, class 0 in the bottom half.
    const n = 90;
    const pixels = new Uint8Array(n * 16);
    const classes = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      classes[i] = i % 2;
      for (let p = 0; p < 16; p++) pixels[i * 16 + p] = p < 8 === (classes[i] === 1) ? 200 + (i % 50) : (i * 7) % 40;
    }
    images = join(dir, 'images.idx');
    labels = join(dir, 'labels.idx');
    writeFileSync(images, encodeIdx({ dtype: 'uint8', shape: [n, 4, 4], data: pixels }));
    writeFileSync(labels, encodeIdx({ dtype: 'uint8', shape: [n], data: classes }));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('trains k teachers on disjoint, recorded partitions and saves them in the tfjs layout', async () => {
    const out = join(dir, 'teachers');
    const run = await runAgent([
      'train',
      '--data',
      images,
      '--labels',
      labels,
      '--teachers',
      '3',
      '--epochs',
      '40',
      '--batch-size',
      '8',
      '--hidden',
      '8',
      '--trainer',
      'threads',
      '--workers',
      '1',
      '--out',
      out,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done in .*: 3 teachers/);
    expect(run.stderr).toMatch(/overall \[[#.]+\] \d+%\s+ETA/);
    const manifest = JSON.parse(readFileSync(join(out, 'teachers.json'), 'utf8'));
    expect(manifest).toMatchObject({ version: 1, teachers: 3, seed: 1, heldOut: 9, normalisation: { kind: 'scale', maxValue: 255 } });
    // 81 training examples, split into 3 disjoint partitions of 27.
    expect(manifest.partitionSizes).toEqual([27, 27, 27]);
    expect(manifest.accuracies.every((a: number) => a >= 0.75)).toBe(true);
    for (let t = 0; t < 3; t++) {
      expect(existsSync(join(out, `teacher-${t}`, 'model.json'))).toBe(true);
      expect(statSync(join(out, `teacher-${t}`, 'weights.bin')).size).toBe((16 * 8 + 8 + 8 * 2 + 2) * 4);
    }
  });

  it('trains a bank of teachers on a public feature map, records the map, and answers through it', async () => {
    // A plain PCA map of the 16 pixels (scaled like the teachers' inputs), fitted on "public" rows.
    const { fitFeatureMap, loadModel, predictProbabilities, selectBackend } = await import('@concord/ml');
    await selectBackend('cpu');
    const pub = new Float32Array(40 * 16);
    for (let i = 0; i < 40; i++) for (let p = 0; p < 16; p++) pub[i * 16 + p] = (p < 8 === (i % 2 === 1) ? 220 : 20) / 255;
    const map = fitFeatureMap(pub, 16, { components: 3 });
    const mapFile = join(dir, 'features.json');
    writeFileSync(mapFile, JSON.stringify(map));
    const out = join(dir, 'bank');
    const run = await runAgent([
      ...['train', '--data', images, '--labels', labels, '--teachers', '3', '--epochs', '30', '--batch-size', '8', '--hidden', '8'],
      ...['--learning-rate', '0.01', '--features', mapFile, '--holdout', '0', '--out', out],
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/training 3 teachers in one batched graph/);
    expect(run.stdout).toMatch(/no local held-out set/);
    const manifest = JSON.parse(readFileSync(join(out, 'teachers.json'), 'utf8'));
    expect(manifest.partitionSizes).toEqual([30, 30, 30]);
    expect(manifest.heldOut).toBe(0);
    expect(manifest.featureMap).toEqual(map);
    // Each teacher takes the map's 3 outputs and separates the two classes through it.
    const model = await loadModel(join(out, 'teacher-0'));
    expect(model.inputs[0].shape).toEqual([null, 3]);
    const { applyFeatureMap } = await import('@concord/ml');
    const probabilities = predictProbabilities(model, applyFeatureMap(map, pub));
    let correct = 0;
    for (let i = 0; i < 40; i++) if (probabilities[i * 2 + 1] > 0.5 === (i % 2 === 1)) correct++;
    expect(correct).toBeGreaterThanOrEqual(38);
  });

  it('trains softmax-regression teachers with --hidden none (a bank of linear models on the feature map)', async () => {
    const { fitFeatureMap, loadModel, selectBackend } = await import('@concord/ml');
    await selectBackend('cpu');
    const pub = new Float32Array(40 * 16);
    for (let i = 0; i < 40; i++) for (let p = 0; p < 16; p++) pub[i * 16 + p] = (p < 8 === (i % 2 === 1) ? 220 : 20) / 255;
    const mapFile = join(dir, 'features-linear.json');
    writeFileSync(mapFile, JSON.stringify(fitFeatureMap(pub, 16, { components: 3 })));
    const out = join(dir, 'linear');
    const run = await runAgent([
      ...['train', '--data', images, '--labels', labels, '--teachers', '3', '--epochs', '40', '--batch-size', '8', '--hidden', 'none'],
      ...['--learning-rate', '0.01', '--features', mapFile, '--out', out],
    ]);
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, 'teachers.json'), 'utf8'));
    expect(manifest.accuracies.every((a: number) => a >= 0.75)).toBe(true);
    // One dense layer from the map's 3 outputs to the 2 classes: 3 × 2 weights and 2 biases.
    expect(statSync(join(out, 'teacher-0', 'weights.bin')).size).toBe((3 * 2 + 2) * 4);
    const model = await loadModel(join(out, 'teacher-0'));
    expect(model.layers.filter((l) => l.getClassName() === 'Dense')).toHaveLength(1);
  });

  it('refuses a feature map that does not fit the data, naming the file', async () => {
    const { fitFeatureMap, selectBackend } = await import('@concord/ml');
    await selectBackend('cpu');
    const wrong = join(dir, 'wrong-features.json');
    writeFileSync(
      wrong,
      JSON.stringify(
        fitFeatureMap(
          new Float32Array(20 * 9).map((_, i) => (i * 7) % 5),
          9,
          { components: 2 },
        ),
      ),
    );
    const out = join(dir, 'never-bank');
    const run = await runAgent(['train', '--data', images, '--labels', labels, '--teachers', '2', '--features', wrong, '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--features .*wrong-features\.json: the feature map takes 9 features, the data has 16/);
    expect(existsSync(join(out, 'teacher-0'))).toBe(false);
  });

  it('refuses a truncated IDX file, naming the file and the bytes missing, and writes no teacher', async () => {
    const truncated = join(dir, 'truncated.idx');
    writeFileSync(truncated, readFileSync(images).subarray(0, 500));
    const out = join(dir, 'never');
    const run = await runAgent(['train', '--data', truncated, '--labels', labels, '--teachers', '2', '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('truncated.idx');
    expect(run.stderr).toMatch(/500/);
    expect(existsSync(join(out, 'teachers.json'))).toBe(false);
  });

  it('refuses a CSV with a text cell, naming the file and the line', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'a,b,label\n1,2,0\n3,four,1\n');
    const run = await runAgent(['train', '--data', csv, '--teachers', '1', '--out', join(dir, 'never2')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.csv:3: .*'b'/);
  });
});
