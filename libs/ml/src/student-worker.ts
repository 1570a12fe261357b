/**
 * Worker-thread entry for student training (see student.ts): tfjs training runs synchronously in
 * long stretches, so the coordinator keeps it off its event loop.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './backend';
import type { Dataset } from './data/dataset';
import { distillStudent } from './distill';
import { applyFeatureMap, DEFAULT_EDGE_ENERGY, type FeatureMap, fitFeatureMap, withFeatureMap } from './features/feature-map';
import { MODEL_JSON, WEIGHTS_BIN } from './io';
import { argmaxRows, predictProbabilities } from './train';
import type { FittedFeatures, StudentWorkerData, StudentWorkerResult } from './student';

function toDataset(d: StudentWorkerData['pool']): Dataset {
  return { features: new Float32Array(d.features), labels: new Int32Array(d.labels), shape: d.shape, count: d.count, classes: d.classes };
}

async function main(data: StudentWorkerData): Promise<StudentWorkerResult> {
  const backend = await selectBackend(data.backend ?? 'auto');
  const released =
    data.released.kind === 'hard'
      ? { kind: 'hard' as const, indices: new Int32Array(data.released.indices), labels: new Int32Array(data.released.labels) }
      : {
          kind: 'soft' as const,
          indices: new Int32Array(data.released.indices),
          noisyScores: new Float32Array(data.released.noisyScores),
          temperature: data.released.temperature,
        };
  let pool = toDataset(data.pool);
  let holdout = data.holdout ? toDataset(data.holdout) : undefined;
  let spec = data.spec;
  let featureMap: FeatureMap | undefined;
  let fittedFeatures: FittedFeatures | undefined;
  if (data.features !== undefined && data.features.kind !== 'input') {
    // A feature map fitted on the public pool (no privacy cost): the student trains on its output,
    // and the saved model carries it as fixed first layers, so it takes raw inputs.
    if (spec.kind !== 'mlp') throw new Error('feature maps need an MLP student');
    const fitted = data.fitted;
    if (fitted !== undefined) {
      // Fitted before on this very pool (public inputs only): the rows through it come with it.
      if (fitted.pool.length !== pool.count * fitted.map.projection.outputSize || fitted.map.inputSize !== spec.inputSize) {
        throw new Error('the fitted feature map does not match this pool');
      }
      if ((holdout === undefined) !== (fitted.holdout === undefined)) throw new Error('the fitted feature map does not match this holdout');
      featureMap = fitted.map;
    } else {
      featureMap = fitFeatureMap(pool.features, spec.inputSize, {
        edges: data.features.kind === 'edges' ? { ...DEFAULT_EDGE_ENERGY, imageShape: data.features.imageShape } : null,
        components: data.features.components,
      });
    }
    const map = featureMap;
    const project = (d: Dataset, through?: Float32Array): Dataset => ({
      ...d,
      features: through ?? applyFeatureMap(map, d.features),
      shape: [map.projection.outputSize],
    });
    pool = project(pool, fitted?.pool);
    holdout = holdout ? project(holdout, fitted?.holdout) : undefined;
    spec = { ...spec, inputSize: map.projection.outputSize };
    if (fitted === undefined) fittedFeatures = { map, pool: pool.features, ...(holdout ? { holdout: holdout.features } : {}) };
  }
  const trained = await distillStudent({
    pool,
    released,
    spec,
    epochs: data.epochs,
    batchSize: data.batchSize,
    seed: data.seed,
    ...(data.semiSupervised ? { semiSupervised: data.semiSupervised } : {}),
    ...(holdout ? { holdout } : {}),
  });
  const { metrics } = trained;
  let model = trained.model;
  const holdoutPredictions = holdout ? argmaxRows(predictProbabilities(model, holdout.features), spec.classes) : new Int32Array(0);
  const poolProbabilities = data.predictPool ? predictProbabilities(model, pool.features) : new Float32Array(0);
  if (featureMap !== undefined) {
    const full = withFeatureMap(model, featureMap);
    model.dispose();
    model = full;
  }
  let modelJson: tf.io.ModelJSON | undefined;
  let weights = new ArrayBuffer(0);
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      weights = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      modelJson = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  const parameters = model.countParams();
  model.dispose();
  return {
    metrics,
    backend: backend.name,
    parameters,
    modelJson: modelJson!,
    modelJsonName: MODEL_JSON,
    weights,
    holdoutPredictions,
    poolProbabilities,
    ...(fittedFeatures ? { fittedFeatures } : {}),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  main(workerData as StudentWorkerData).then(
    (result) =>
      port.postMessage({ ok: true, result }, [
        result.weights,
        result.holdoutPredictions.buffer as ArrayBuffer,
        result.poolProbabilities.buffer as ArrayBuffer,
      ]),
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
}
