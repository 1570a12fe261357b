import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classCounts } from './dataset';
import { encodeIdx, loadIdxDataset, parseIdx, readIdxFile, writeIdxFile } from './idx';

const dir = mkdtempSync(join(tmpdir(), 'concord-idx-'));
const subsetDir = join(__dirname, '..', '..', '..', '..', 'datasets', 'fashion-mnist-subset');

describe('IDX', () => {
  it('parses a hand-written uint8 vector and a big-endian int32', () => {
    const bytes = Uint8Array.from([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 8, 9]);
    const parsed = parseIdx(bytes, 'v.idx');
    expect(parsed.dtype).toBe('uint8');
    expect(parsed.shape).toEqual([3]);
    expect(Array.from(parsed.data)).toEqual([7, 8, 9]);
    const int32 = parseIdx(Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 1, 0, 0, 1, 2]), 'i.idx');
    expect(Array.from(int32.data)).toEqual([258]);
  });

  it('reports a truncated file with its name and both byte counts', () => {
    // 2 × 2 uint8 needs 4 + 8 + 4 = 16 bytes; give it 15.
    const bytes = Uint8Array.from([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3]);
    expect(() => parseIdx(bytes, 'images.idx')).toThrow('images.idx: truncated IDX file: expected 16 bytes (2 × 2 uint8), got 15');
  });

  it('reports a truncated gzipped file by name', () => {
    const path = join(dir, 'short-images-idx3-ubyte.gz');
    writeFileSync(path, gzipSync(Uint8Array.from([0, 0, 0x08, 1, 0, 0, 0, 10, 1, 2, 3])));
    expect(() => readIdxFile(path)).toThrow('short-images-idx3-ubyte.gz: truncated IDX file: expected 18 bytes (10 uint8), got 11');
    const cut = join(dir, 'cut.gz');
    const gz = gzipSync(new Uint8Array(1000));
    writeFileSync(cut, gz.subarray(0, gz.length - 10));
    expect(() => readIdxFile(cut)).toThrow(/^cut\.gz: corrupt or truncated gzip stream/);
  });

  it('refuses a bad magic number, naming the file and the bytes found', () => {
    expect(() => parseIdx(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0]), 'zip.idx')).toThrow(/^zip\.idx: bad IDX magic number 50 4b 03 04/);
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x07, 1, 0, 0, 0, 0]), 'odd.idx')).toThrow(/bad IDX magic number 00 00 07 01/);
  });

  it('refuses trailing bytes', () => {
    expect(() => parseIdx(Uint8Array.from([0, 0, 0x08, 1, 0, 0, 0, 1, 5, 6]), 'long.idx')).toThrow(
      'long.idx: IDX file too long: expected 9 bytes (1 uint8), got 10',
    );
  });

  it('round-trips every dtype through encode/write/read', () => {
    const values = [-3, 0, 7, 100];
    for (const dtype of ['int8', 'int16', 'int32', 'float32', 'float64'] as const) {
      const array = { dtype, shape: [2, 2], data: dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values) };
      const path = join(dir, `rt-${dtype}.idx.gz`);
      writeIdxFile(path, { ...array, data: Float64Array.from(values) }, { gzip: true });
      const back = readIdxFile(path);
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([2, 2]);
      expect(Array.from(back.data)).toEqual(values);
    }
    expect(encodeIdx({ dtype: 'uint8', shape: [2], data: Uint8Array.from([1, 2]) })).toEqual(Uint8Array.from([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]));
  });

  it('refuses images and labels of different counts, naming both files', () => {
    writeIdxFile(join(dir, 'imgs.idx'), { dtype: 'uint8', shape: [3, 2, 2], data: new Uint8Array(12) }, { gzip: false });
    writeIdxFile(join(dir, 'lbls.idx'), { dtype: 'uint8', shape: [2], data: new Uint8Array(2) }, { gzip: false });
    expect(() => loadIdxDataset(join(dir, 'imgs.idx'), join(dir, 'lbls.idx'))).toThrow(
      'label/image count mismatch: imgs.idx has 3 images, lbls.idx has 2 labels',
    );
  });

  it('loads the committed Fashion-MNIST subset: 6,000 28×28 images, 600 per class', () => {
    const train = loadIdxDataset(join(subsetDir, 'train-images-idx3-ubyte.gz'), join(subsetDir, 'train-labels-idx1-ubyte.gz'));
    expect(train.count).toBe(6000);
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.classes).toBe(10);
    expect(classCounts(train)).toEqual(new Array(10).fill(600));
    expect(Math.max(...train.features.subarray(0, 784 * 10))).toBeLessThanOrEqual(255);
  });
});
