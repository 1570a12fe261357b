import * as tf from '@tensorflow/tfjs';

/** A multilayer perceptron on flat feature vectors, e.g. 784-256-10. Trains on every backend. */
export interface MlpSpec {
  readonly kind: 'mlp';
  readonly inputSize: number;
  /** Hidden layer widths (ReLU), e.g. [256]. */
  readonly hidden: readonly number[];
  readonly classes: number;
  /** Dropout after each hidden layer; default 0. */
  readonly dropout?: number;
}

/** Outputs LOGITS (linear last layer); use predictProbabilities for probabilities. */
export function buildMlp(spec: MlpSpec, seed: number): tf.Sequential {
  const model = tf.sequential({ name: 'mlp' });
  spec.hidden.forEach((units, i) => {
    model.add(
      tf.layers.dense({
        units,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [spec.inputSize] } : {}),
      }),
    );
    if ((spec.dropout ?? 0) > 0) model.add(tf.layers.dropout({ rate: spec.dropout ?? 0, seed: seed + 1000 + i }));
  });
  model.add(
    tf.layers.dense({
      units: spec.classes,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + spec.hidden.length }),
      ...(spec.hidden.length === 0 ? { inputShape: [spec.inputSize] } : {}),
    }),
  );
  return model;
}
