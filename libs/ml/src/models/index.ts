import type * as tf from '@tensorflow/tfjs';
import { type BackendName, canTrainConvolutions } from '../backend';
import { type CnnSpec, buildCnn } from './cnn';
import { type MlpSpec, buildMlp } from './mlp';

export { type CnnSpec, buildCnn } from './cnn';
export {
  type LinearProjection,
  type MlpSpec,
  PROJECTION_LAYER,
  applyProjection,
  buildMlp,
  checkLinearProjection,
  checkProjection,
  setProjection,
} from './mlp';

export type ModelSpec = MlpSpec | CnnSpec;

/** Shape of one input example for the spec. */
export function inputShapeOf(spec: ModelSpec): number[] {
  switch (spec.kind) {
    case 'mlp':
      return [spec.inputSize];
    case 'cnn':
      return [...spec.inputShape];
  }
}

/**
 * Builds the model for a spec with seeded initial weights. Pass the backend that will train it
 * to fail early, with a reason, where it cannot (a CNN on wasm).
 */
export function buildModel(spec: ModelSpec, seed = 1, trainingBackend?: BackendName): tf.LayersModel {
  switch (spec.kind) {
    case 'mlp':
      return buildMlp(spec, seed);
    case 'cnn':
      if (trainingBackend !== undefined && !canTrainConvolutions(trainingBackend)) {
        throw new Error(
          `a CNN cannot train on the ${trainingBackend} backend (tfjs ${trainingBackend} has no Conv2D gradient kernels): use an MLP, or the tensorflow or cpu backend`,
        );
      }
      return buildCnn(spec, seed);
  }
}
