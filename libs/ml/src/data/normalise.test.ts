import { describe, expect, it } from 'vitest';
import type { Dataset } from './dataset';
import { fitStandardisation, imageScaling, normalise } from './normalise';

const ds: Dataset = { features: Float32Array.from([0, 10, 255, 10]), labels: Int32Array.from([0, 1]), shape: [2], count: 2, classes: 2 };

describe('normalisation', () => {
  it('scales 8-bit pixels to [0, 1]', () => {
    expect(Array.from(normalise(ds, imageScaling()).features)).toEqual([0, 10 / 255, 1, 10 / 255].map(Math.fround));
  });

  it('standardises per feature; a constant feature maps to 0', () => {
    // Feature 0: values 0 and 255 → mean 127.5, population std 127.5. Feature 1 is constant.
    const spec = fitStandardisation(ds);
    expect(spec).toEqual({ kind: 'standardise', mean: [127.5, 10], std: [127.5, 1] });
    expect(Array.from(normalise(ds, spec).features)).toEqual([-1, 0, 1, 0]);
  });
});
