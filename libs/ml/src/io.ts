import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * Models on disk in the layout `@tensorflow/tfjs-node` writes and reads for `file://dir`:
 * `dir/model.json` (topology + weightsManifest with paths ["weights.bin"]) and `dir/weights.bin`
 * (all weights, concatenated). Written and read with node:fs, so it needs no tfjs-node and files
 * are interchangeable with it and with `tf.loadLayersModel` over HTTP.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** Extra JSON stored as model.json's userDefinedMetadata (e.g. normalisation, class names). */
// tfjs types userDefinedMetadata as {[key: string]: {}}: any non-null JSON value.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type ModelMetadata = { [key: string]: {} };

export async function saveModel(model: tf.LayersModel, dir: string, metadata?: ModelMetadata): Promise<tf.io.SaveResult> {
  return model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig !== undefined ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(metadata !== undefined ? { userDefinedMetadata: metadata } : {}),
      };
      mkdirSync(dir, { recursive: true });
      // Weights first: a reader that finds model.json finds its weights too.
      writeFileSync(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      writeFileSync(join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return Promise.resolve({
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weightData.byteLength,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology ?? {}).length,
        },
      });
    }),
  );
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, string: 0, complex64: 8 };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An IOHandler that loads `dir/model.json` and the weight files its manifest names. */
export function fromDirectory(dir: string): tf.io.IOHandler {
  return {
    load: (): Promise<tf.io.ModelArtifacts> => {
      const jsonPath = join(dir, MODEL_JSON);
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        return Promise.reject(new Error(`${jsonPath}: ${code !== undefined ? `cannot read (${code})` : 'not valid JSON'}`));
      }
      if (!isObject(parsed) || !isObject(parsed.modelTopology) || !Array.isArray(parsed.weightsManifest)) {
        return Promise.reject(new Error(`${jsonPath}: not a tfjs layers model (needs modelTopology and weightsManifest)`));
      }
      const json = parsed as unknown as tf.io.ModelJSON;
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) {
          const file = join(dir, path);
          try {
            buffers.push(readFileSync(file));
          } catch (error) {
            return Promise.reject(new Error(`${file}: cannot read weights (${(error as NodeJS.ErrnoException).code ?? String(error)})`));
          }
        }
      }
      const total = buffers.reduce((a, b) => a + b.length, 0);
      const quantized = weightSpecs.some((w) => w.quantization !== undefined);
      if (!quantized) {
        const expected = weightSpecs.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (DTYPE_BYTES[w.dtype] ?? 4), 0);
        if (expected !== total) {
          return Promise.reject(new Error(`${dir}: weights hold ${total} bytes, the manifest in ${MODEL_JSON} needs ${expected}`));
        }
      }
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.length;
      }
      return Promise.resolve({
        modelTopology: json.modelTopology,
        weightSpecs,
        weightData: weightData.buffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig,
        userDefinedMetadata: json.userDefinedMetadata,
      });
    },
  };
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fromDirectory(dir));
}

/** The userDefinedMetadata saved with a model, or undefined. */
export function readModelMetadata(dir: string): ModelMetadata | undefined {
  const json = JSON.parse(readFileSync(join(dir, MODEL_JSON), 'utf8')) as { userDefinedMetadata?: ModelMetadata };
  return json.userDefinedMetadata;
}
