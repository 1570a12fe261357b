import { describe, expect, it } from 'vitest';
import { PATE_ORDERS } from '../orders';
import { addRdpGaussian, computeLogqGaussian, rdpGaussian } from './gnmax';
import { computeLogPrAnswered, computeRdpThreshold, rdpDataIndependentThreshold } from './threshold';
import { normLogSf } from '../special/ndtr';

describe('GNMax (Scalable PATE)', () => {
  it('log q of two classes is the single Gaussian tail Φ̄(gap/(√2σ)) (Prop. 7)', () => {
    expect(computeLogqGaussian([250, 0], 20)).toBeCloseTo(normLogSf(250, 20 * Math.SQRT2), 12);
    expect(computeLogqGaussian([250, 0], 20)).toBeCloseTo(-42.17300772891079, 10);
  });

  it('caps log q at log(1 - 1/m) for a uniform vote', () => {
    expect(computeLogqGaussian([25, 25, 25, 25, 25, 25, 25, 25, 25, 25], 40)).toBe(Math.log(1 - 1 / 10));
  });

  it('data-dependent RDP never exceeds α/σ² and equals it exactly where Thm 6 does not apply', () => {
    const lq = computeLogqGaussian([130, 120, 0, 0], 40);
    const r = rdpGaussian(lq, 40, PATE_ORDERS);
    PATE_ORDERS.forEach((a, k) => expect(r[k]).toBeLessThanOrEqual(a / 1600));
    const none = rdpGaussian(-0.1, 40, [2, 3]);
    expect(Array.from(none)).toEqual([2 / 1600, 3 / 1600]);
    expect(Array.from(rdpGaussian(-Infinity, 40, [2]))).toEqual([0]);
  });

  it('the allocation-free accumulator agrees with rdpGaussian', () => {
    for (const lq of [-1e-3, -0.5, -3, -10, -40, -300]) {
      for (const sigma of [5, 40, 150]) {
        const a = new Float64Array(PATE_ORDERS.length);
        addRdpGaussian(a, lq, sigma, PATE_ORDERS);
        const b = rdpGaussian(lq, sigma, PATE_ORDERS);
        for (let k = 0; k < a.length; k++) expect(Math.abs(a[k] - b[k])).toBeLessThanOrEqual(1e-12 * b[k]);
      }
    }
  });
});

describe('Confident-GNMax threshold step', () => {
  it('rounds the max vote half to even before the tail (200.5 → 200)', () => {
    expect(computeLogPrAnswered(200, 150, [200.5, 49.5])).toBe(computeLogPrAnswered(200, 150, [200, 50]));
    expect(computeLogPrAnswered(200, 150, [201.5, 48.5])).toBe(computeLogPrAnswered(200, 150, [202, 48]));
  });

  it('data-independent cost is α/(2σ²) and bounds the data-dependent one', () => {
    expect(rdpDataIndependentThreshold(150, 10)).toBeCloseTo(10 / (2 * 150 * 150), 18);
    const r = computeRdpThreshold(computeLogPrAnswered(200, 150, [250, 0]), 150, [2, 10, 50]);
    [2, 10, 50].forEach((a, k) => expect(r[k]).toBeLessThanOrEqual(rdpDataIndependentThreshold(150, a) * (1 + 1e-15)));
  });
});
