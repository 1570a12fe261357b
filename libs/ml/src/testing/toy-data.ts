import type { Dataset } from '../data/dataset';
import { seededRandom } from '../data/prng';

/**
 * Test fixture: four classes in the four quadrants of the plane, at least 0.5 from both axes,
 * so linearly separable — any reasonable classifier must reach 100%.
 * Class 0: (+, +), 1: (−, +), 2: (−, −), 3: (+, −).
 */
export function quadrants(count: number, seed: number): Dataset {
  const random = seededRandom(seed);
  const features = new Float32Array(count * 2);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % 4;
    const sx = label === 0 || label === 3 ? 1 : -1;
    const sy = label < 2 ? 1 : -1;
    features[2 * i] = sx * (0.5 + random());
    features[2 * i + 1] = sy * (0.5 + random());
    labels[i] = label;
  }
  return { features, labels, shape: [2], count, classes: 4 };
}
