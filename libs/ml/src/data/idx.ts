import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { type Dataset, DatasetError } from './dataset';

/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzipped.
 *
 * Layout: magic `00 00 <dtype> <ndims>`, then ndims big-endian uint32 dimensions, then the values,
 * big-endian, row-major. The byte length must match the header exactly: a short file is reported
 * as truncated with both counts, and trailing bytes are refused too.
 */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  readonly dtype: IdxDtype;
  readonly shape: readonly number[];
  readonly data: IdxData;
}

const DTYPE_CODES: ReadonlyMap<number, { dtype: IdxDtype; bytes: number }> = new Map([
  [0x08, { dtype: 'uint8', bytes: 1 }],
  [0x09, { dtype: 'int8', bytes: 1 }],
  [0x0b, { dtype: 'int16', bytes: 2 }],
  [0x0c, { dtype: 'int32', bytes: 4 }],
  [0x0d, { dtype: 'float32', bytes: 4 }],
  [0x0e, { dtype: 'float64', bytes: 8 }],
]);

function codeOf(dtype: IdxDtype): { code: number; bytes: number } {
  for (const [code, info] of DTYPE_CODES) if (info.dtype === dtype) return { code, bytes: info.bytes };
  throw new DatasetError(`unknown IDX dtype ${String(dtype)}`);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Parses IDX bytes (already gunzipped). `name` is used in every error message. */
export function parseIdx(bytes: Uint8Array, name: string): IdxArray {
  if (bytes.length < 4) {
    throw new DatasetError(`${name}: truncated IDX header: expected at least 4 bytes, got ${bytes.length}`);
  }
  const dtypeInfo = DTYPE_CODES.get(bytes[2]);
  if (bytes[0] !== 0 || bytes[1] !== 0 || dtypeInfo === undefined || bytes[3] === 0) {
    throw new DatasetError(
      `${name}: bad IDX magic number ${hex(bytes.subarray(0, 4))}: expected 00 00 <dtype 08|09|0b|0c|0d|0e> <dimensions ≥ 1>`,
    );
  }
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new DatasetError(
      `${name}: truncated IDX header: expected ${headerBytes} bytes for ${ndims} dimensions, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndims; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * dtypeInfo.bytes;
  if (bytes.length < expected) {
    throw new DatasetError(
      `${name}: truncated IDX file: expected ${expected} bytes (${shape.join(' × ')} ${dtypeInfo.dtype}), got ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new DatasetError(
      `${name}: IDX file too long: expected ${expected} bytes (${shape.join(' × ')} ${dtypeInfo.dtype}), got ${bytes.length}`,
    );
  }
  const data = decodeValues(view, headerBytes, count, dtypeInfo.dtype);
  return { dtype: dtypeInfo.dtype, shape, data };
}

function decodeValues(view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int8':
      return new Int8Array(view.buffer.slice(view.byteOffset + offset, view.byteOffset + offset + count));
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Reads an IDX file; gzip is detected from its first two bytes (1f 8b), not from the name. */
export function readIdxFile(path: string): IdxArray {
  const name = basename(path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DatasetError(`${name}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DatasetError(`${name}: corrupt or truncated gzip stream: ${(error as Error).message}`);
    }
  }
  return parseIdx(bytes, name);
}

/** Encodes an IDX array (big-endian), the inverse of parseIdx. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const { code, bytes: width } = codeOf(array.dtype);
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new DatasetError(`encodeIdx: shape ${array.shape.join(' × ')} needs ${count} values, got ${array.data.length}`);
  }
  const header = 4 + 4 * array.shape.length;
  const out = new Uint8Array(header + count * width);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = array.shape.length;
  array.shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const o = header + i * width;
    const v = array.data[i];
    switch (array.dtype) {
      case 'uint8':
        view.setUint8(o, v);
        break;
      case 'int8':
        view.setInt8(o, v);
        break;
      case 'int16':
        view.setInt16(o, v, false);
        break;
      case 'int32':
        view.setInt32(o, v, false);
        break;
      case 'float32':
        view.setFloat32(o, v, false);
        break;
      case 'float64':
        view.setFloat64(o, v, false);
        break;
    }
  }
  return out;
}

/** Writes an IDX file, gzipped when `gzip` is true (gzip header mtime 0: same input, same bytes). */
export function writeIdxFile(path: string, array: IdxArray, options: { gzip: boolean }): void {
  const bytes = encodeIdx(array);
  writeFileSync(path, options.gzip ? gzipSync(bytes, { level: 9 }) : bytes);
}

export interface IdxDatasetOptions {
  /** Number of classes; default max label + 1. */
  readonly classes?: number;
  /** Example shape; default the image file's dimensions after the first, with a channel axis for 2-D images. */
  readonly shape?: readonly number[];
}

/**
 * An images file (N × ...) and a labels file (N) as a Dataset. Raw pixel values are kept (0–255
 * for uint8); apply a Normalisation (imageScaling) before training.
 */
export function loadIdxDataset(imagesPath: string, labelsPath: string, options: IdxDatasetOptions = {}): Dataset {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  const imagesName = basename(imagesPath);
  const labelsName = basename(labelsPath);
  if (labels.shape.length !== 1) {
    throw new DatasetError(`${labelsName}: labels must be 1-dimensional, got shape ${labels.shape.join(' × ')}`);
  }
  if (images.shape[0] !== labels.shape[0]) {
    throw new DatasetError(
      `label/image count mismatch: ${imagesName} has ${images.shape[0]} images, ${labelsName} has ${labels.shape[0]} labels`,
    );
  }
  const count = images.shape[0];
  const inner = images.shape.slice(1);
  const shape = options.shape ?? (inner.length === 2 ? [inner[0], inner[1], 1] : inner);
  const labelArray = Int32Array.from(labels.data);
  let max = -1;
  for (const l of labelArray) {
    if (!Number.isInteger(l) || l < 0) throw new DatasetError(`${labelsName}: label ${l} is not a class index`);
    if (l > max) max = l;
  }
  const classes = options.classes ?? max + 1;
  if (max >= classes) throw new DatasetError(`${labelsName}: label ${max} is outside [0, ${classes})`);
  return { features: Float32Array.from(images.data), labels: labelArray, shape, count, classes };
}
