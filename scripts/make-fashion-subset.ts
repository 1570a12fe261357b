/**
 * Makes datasets/fashion-mnist-subset from the Debian package dataset-fashion-mnist
 * (/usr/share/datasets/fashion-mnist, gzipped IDX, MIT, © 2017 Zalando SE).
 *
 *   train   6,000 images from the 60,000 training images, 600 per class
 *   public  1,000 images from the 10,000 test (t10k) images, 100 per class (the unlabeled query pool;
 *           its labels are kept for evaluating released labels, never for training the student)
 *   holdout 1,000 other t10k images, 100 per class (student evaluation)
 *
 * Selection: a seeded permutation of each source file's indices (mulberry32, libs/ml prng),
 * walked in order, taking an image while its class quota is not full; public is filled before
 * holdout from the same t10k walk. Selected indices are then sorted ascending, and written with
 * the source file hashes to indices.json. Same sources + same seed → byte-identical files.
 *
 *   npx tsx scripts/make-fashion-subset.ts [--source DIR] [--out DIR] [--seed N]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { type IdxArray, readIdxFile, seededPermutation, writeIdxFile } from '../libs/ml/src';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const source = args.get('source') ?? '/usr/share/datasets/fashion-mnist';
const out = args.get('out') ?? join(__dirname, '..', 'datasets', 'fashion-mnist-subset');
const seed = Number(args.get('seed') ?? '20171025');
const CLASSES = 10;

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Walks a seeded permutation and fills per-class quotas for each split in turn. */
function pick(labels: IdxArray, quotas: number[], seedValue: number): Int32Array[] {
  const order = seededPermutation(labels.shape[0], seedValue);
  const taken = new Uint8Array(labels.shape[0]);
  return quotas.map((perClass) => {
    const counts = new Array<number>(CLASSES).fill(0);
    const chosen: number[] = [];
    for (const i of order) {
      const label = labels.data[i];
      if (taken[i] === 1 || counts[label] >= perClass) continue;
      counts[label] += 1;
      taken[i] = 1;
      chosen.push(i);
      if (chosen.length === perClass * CLASSES) break;
    }
    if (chosen.length !== perClass * CLASSES) throw new Error(`not enough images for ${perClass} per class`);
    return Int32Array.from(chosen).sort();
  });
}

function select(images: IdxArray, labels: IdxArray, indices: Int32Array): { images: IdxArray; labels: IdxArray } {
  const [, h, w] = images.shape;
  const size = h * w;
  const pixels = new Uint8Array(indices.length * size);
  const classes = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    pixels.set(images.data.subarray(src * size, (src + 1) * size), i * size);
    classes[i] = labels.data[src];
  });
  return {
    images: { dtype: 'uint8', shape: [indices.length, h, w], data: pixels },
    labels: { dtype: 'uint8', shape: [indices.length], data: classes },
  };
}

const files = {
  trainImages: join(source, 'train-images-idx3-ubyte.gz'),
  trainLabels: join(source, 'train-labels-idx1-ubyte.gz'),
  testImages: join(source, 't10k-images-idx3-ubyte.gz'),
  testLabels: join(source, 't10k-labels-idx1-ubyte.gz'),
};
const trainImages = readIdxFile(files.trainImages);
const trainLabels = readIdxFile(files.trainLabels);
const testImages = readIdxFile(files.testImages);
const testLabels = readIdxFile(files.testLabels);

const [train] = pick(trainLabels, [600], seed);
const [publicPool, holdout] = pick(testLabels, [100, 100], seed + 1);
mkdirSync(out, { recursive: true });
const splits = {
  train: [trainImages, trainLabels, train],
  public: [testImages, testLabels, publicPool],
  holdout: [testImages, testLabels, holdout],
} as const;
const outputs: Record<string, string> = {};
for (const [name, [images, labels, indices]] of Object.entries(splits)) {
  const part = select(images, labels, indices);
  for (const [kind, array] of [
    ['images-idx3', part.images],
    ['labels-idx1', part.labels],
  ] as const) {
    const file = `${name}-${kind}-ubyte.gz`;
    writeIdxFile(join(out, file), array, { gzip: true });
    outputs[file] = sha256(join(out, file));
  }
}
const manifest = {
  seed,
  source: Object.fromEntries(Object.entries(files).map(([k, path]) => [k, { file: path.split('/').pop(), sha256: sha256(path) }])),
  outputs,
  indices: {
    train: { from: 'train-images-idx3-ubyte.gz', indices: Array.from(train) },
    public: { from: 't10k-images-idx3-ubyte.gz', indices: Array.from(publicPool) },
    holdout: { from: 't10k-images-idx3-ubyte.gz', indices: Array.from(holdout) },
  },
};
async function writeManifest(): Promise<void> {
  // Formatted as the repository's prettier would, so `npm run check` accepts the file as written.
  const path = join(out, 'indices.json');
  const config = (await resolveConfig(join(__dirname, '..', 'package.json'))) ?? {};
  writeFileSync(path, await format(JSON.stringify(manifest), { ...config, parser: 'json' }));
  console.log(JSON.stringify({ out, seed, train: train.length, public: publicPool.length, holdout: holdout.length, outputs }));
}

writeManifest().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
