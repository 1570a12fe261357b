import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend';
import { seededRandom } from '../data/prng';
import { loadModel, saveModel } from '../io';
import { buildMlp } from '../models/mlp';
import { argmaxRows, predictProbabilities } from '../train';
import {
  applyFeatureMap,
  DEFAULT_EDGE_ENERGY,
  edgeEnergy,
  edgeEnergySize,
  featureMapProblem,
  fitFeatureMap,
  withFeatureMap,
} from './feature-map';

const dir = mkdtempSync(join(tmpdir(), 'concord-feature-map-'));
beforeAll(async () => {
  await selectBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 28 × 28 images: a vertical bar (class 0) or a horizontal bar (class 1) at a random offset. */
function bars(count: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const random = seededRandom(seed);
  const images = new Float32Array(count * 784);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const at = 6 + Math.floor(random() * 16);
    labels[i] = i % 2;
    for (let k = 4; k < 24; k++) images[i * 784 + (labels[i] === 0 ? k * 28 + at : at * 28 + k)] = 1;
  }
  return { images, labels };
}

describe('edge energy', () => {
  it('responds to a vertical edge in the vertical-edge channels only', () => {
    // Left half 0, right half 1: a vertical step edge. Orientation 0 differentiates along x.
    const image = new Float32Array(784);
    for (let y = 0; y < 28; y++) for (let x = 14; x < 28; x++) image[y * 28 + x] = 1;
    const f = edgeEnergy(DEFAULT_EDGE_ENERGY, image);
    expect(f.length).toBe(edgeEnergySize(DEFAULT_EDGE_ENERGY));
    // Layout: 7 × 7 cells × 32 channels (channels last), then 2 × 2 × 32. Channel c < 16 is relu(+r),
    // 16 + c relu(−r); c = sigma × 8 + orientation. Cell (row 3, col 3) straddles the edge.
    const cell = (3 * 7 + 3) * 32;
    const plus = (o: number): number => f[cell + o]; // sigma 0.8, orientation o, +r
    const minus = (o: number): number => f[cell + 16 + o];
    // −u/σ² derivative: a rising edge along +x gives a negative response, so the −r channel fires.
    expect(minus(0)).toBeGreaterThan(0.3);
    expect(plus(0)).toBeLessThan(0.01);
    // Orientation 4 (90°) differentiates along y: nothing there.
    expect(Math.max(plus(4), minus(4))).toBeLessThan(0.01);
  });
});

describe('feature maps', () => {
  it('fits on the pool, and a model saved with the map inside predicts as map-then-model', async () => {
    const { images } = bars(200, 1);
    const map = fitFeatureMap(images, 784, { edges: DEFAULT_EDGE_ENERGY, components: 8 });
    expect(featureMapProblem(map, 784)).toBeNull();
    expect(featureMapProblem(map, 100)).toMatch(/takes 784 features/);
    expect(featureMapProblem({ ...map, projection: { ...map.projection, basis: [1] } }, 784)).toMatch(/basis must have/);
    const head = buildMlp({ kind: 'mlp', inputSize: 8, hidden: [5], classes: 2 }, 7);
    const test = bars(20, 2).images;
    const expected = predictProbabilities(head, applyFeatureMap(map, test));
    const full = withFeatureMap(head, map);
    await saveModel(full, join(dir, 'student'));
    const loaded = await loadModel(join(dir, 'student'));
    const got = predictProbabilities(loaded, test);
    expect(got.length).toBe(expected.length);
    got.forEach((p, i) => expect(p).toBeCloseTo(expected[i], 4));
    // The projection is fixed: only the head trains.
    expect(loaded.trainableWeights.length).toBe(4);
    expect(argmaxRows(got, 2).length).toBe(20);
  });

  it('keeps the components of a plain PCA map orthogonal and unit-variance on average', () => {
    const { images } = bars(300, 3);
    const map = fitFeatureMap(images, 784, { components: 4 });
    const y = applyFeatureMap(map, images);
    let variance = 0;
    for (let c = 0; c < 4; c++) {
      let m = 0;
      for (let i = 0; i < 300; i++) m += y[i * 4 + c] / 300;
      for (let i = 0; i < 300; i++) variance += (y[i * 4 + c] - m) ** 2 / 299 / 4;
    }
    expect(variance).toBeCloseTo(1, 2);
  });
});
