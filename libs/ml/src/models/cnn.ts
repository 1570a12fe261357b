import * as tf from '@tensorflow/tfjs';

/**
 * A small convolutional network for images (conv-pool blocks, one dense layer). Trains only on
 * backends with convolution gradients (tensorflow, cpu): not on wasm.
 */
export interface CnnSpec {
  readonly kind: 'cnn';
  /** [height, width, channels]. */
  readonly inputShape: readonly [number, number, number];
  /** Filters of each 3×3 conv + 2×2 max-pool block, e.g. [16, 32]. */
  readonly filters: readonly number[];
  readonly dense: number;
  readonly classes: number;
}

/** Outputs LOGITS (linear last layer). */
export function buildCnn(spec: CnnSpec, seed: number): tf.Sequential {
  const model = tf.sequential({ name: 'cnn' });
  spec.filters.forEach((filters, i) => {
    model.add(
      tf.layers.conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: seed + i }),
        ...(i === 0 ? { inputShape: [...spec.inputShape] } : {}),
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  });
  model.add(tf.layers.flatten(spec.filters.length === 0 ? { inputShape: [...spec.inputShape] } : {}));
  model.add(tf.layers.dense({ units: spec.dense, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: seed + 100 }) }));
  model.add(tf.layers.dense({ units: spec.classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 101 }) }));
  return model;
}
