import { epsilonOfGaussianDp } from '@concord/privacy';
import { describe, expect, it } from 'vitest';
import { PlanningService } from './planning.service';

// Plans use the conversion budgets are charged with: exact, for these compositions of Gaussian
// mechanisms of total μ² (RDP α μ²/2).
const eps = (mu2: number, delta: number): number => epsilonOfGaussianDp(Math.sqrt(mu2), delta);

describe('PlanningService.calibrate', () => {
  const planning = new PlanningService();

  it('GNMax: the σ returned meets the target, and 1% less noise would not', () => {
    const r = planning.calibrate({ mechanism: 'gnmax', queries: 1000, epsilon: 2, delta: 1e-5 });
    const cost = (s: number) => eps((1000 * 2) / (s * s), 1e-5);
    expect(cost(r.sigma!)).toBeLessThanOrEqual(2);
    expect(cost(r.sigma! * 0.99)).toBeGreaterThan(2);
  });

  it('Confident-GNMax: σ1 = ratio·σ2 and the worst case (all answered) meets the target', () => {
    const r = planning.calibrate({ mechanism: 'confident_gnmax', queries: 640, epsilon: 3, delta: 1e-5, ratio: 3.75 });
    expect(r.sigma1! / r.sigma2!).toBeCloseTo(3.75, 12);
    const cost = (s1: number, s2: number) => eps(640 / (s1 * s1) + (640 * 2) / (s2 * s2), 1e-5);
    expect(cost(r.sigma1!, r.sigma2!)).toBeLessThanOrEqual(3);
    expect(cost(r.sigma1! * 0.99, r.sigma2! * 0.99)).toBeGreaterThan(3);
  });

  it('soft labels: σ scales with the clipping norm (sensitivity √2·C)', () => {
    const one = planning.calibrate({ mechanism: 'gaussian_soft_labels', queries: 500, epsilon: 1, delta: 1e-6 });
    const two = planning.calibrate({ mechanism: 'gaussian_soft_labels', queries: 500, epsilon: 1, delta: 1e-6, clipNorm: 2 });
    expect(two.sigma! / one.sigma!).toBeCloseTo(2, 12);
    expect(eps((500 * 2 * 4) / (two.sigma! * two.sigma!), 1e-6)).toBeLessThanOrEqual(1);
    expect(eps((500 * 2 * 4) / (two.sigma! * two.sigma! * 0.98), 1e-6)).toBeGreaterThan(1);
    expect(two.accounting).toMatch(/analytic-Gaussian/);
  });

  it('refuses more answered queries than asked, naming the field', () => {
    expect(() => planning.calibrate({ mechanism: 'confident_gnmax', queries: 10, answered: 11, epsilon: 1, delta: 1e-5 })).toThrow(
      /answered/,
    );
  });
});
