import { describe, expect, it } from 'vitest';
import { calibrateConfidentGnmax, calibrateGnmaxSigma } from './calibrate';
import { epsilonFromRdp } from './conversion';
import { DPA_ORDERS, PATE_ORDERS } from './orders';

const eps = (sigma: number, queries: number, delta: number, orders: readonly number[]): number =>
  epsilonFromRdp(
    orders,
    orders.map((a) => (queries * a) / (sigma * sigma)),
    delta,
  ).epsilon;

describe('calibration', () => {
  it('finds the smallest GNMax σ meeting the target', () => {
    for (const [q, e, d] of [
      [1000, 2, 1e-5],
      [10000, 8, 1e-6],
      [1, 0.5, 1e-5],
    ]) {
      const r = calibrateGnmaxSigma({ queries: q, epsilon: e, delta: d, orders: PATE_ORDERS });
      expect(eps(r.sigma, q, d, PATE_ORDERS)).toBeLessThanOrEqual(e);
      expect(eps(r.sigma * (1 - 1e-6), q, d, PATE_ORDERS)).toBeGreaterThan(e);
    }
  });

  it('finds σ1 = ratio·σ2 for Confident-GNMax', () => {
    const r = calibrateConfidentGnmax({ queries: 1000, epsilon: 2, delta: 1e-5, ratio: 3.75 });
    expect(r.sigma1 / r.sigma2).toBeCloseTo(3.75, 12);
    const rdpAt = (s2: number): number[] => DPA_ORDERS.map((a) => 1000 * (a / (2 * (3.75 * s2) ** 2)) + 1000 * (a / (s2 * s2)));
    expect(epsilonFromRdp(DPA_ORDERS, rdpAt(r.sigma2), 1e-5).epsilon).toBeLessThanOrEqual(2);
    expect(epsilonFromRdp(DPA_ORDERS, rdpAt(r.sigma2 * (1 - 1e-6)), 1e-5).epsilon).toBeGreaterThan(2);
  });
});
