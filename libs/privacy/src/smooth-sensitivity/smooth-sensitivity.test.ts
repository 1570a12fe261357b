import { describe, expect, it } from 'vitest';
import { PATE_ORDERS } from '../orders';
import { rdpDataIndependentGaussian } from '../pate/gnmax';
import { computeLogq0Gnmax, dataDependentBoundGnmax, localSensitivityBoundsGnmax } from './gnmax';
import { planSmoothSensitivityRelease } from './pipeline';
import { computeDiscountedMax, rdpOfSmoothSensitivityGaussian } from './release';
import { localSensitivityBoundsThreshold } from './threshold';

describe('smooth sensitivity (Scalable PATE App. B)', () => {
  it('discounted maximum: max_d e^{-βd} LS(d) (hand-checked)', () => {
    // e^{-0.5·2}·10 = 3.679 beats 1 and e^{-0.5}·3 = 1.820
    expect(computeDiscountedMax(0.5, [1, 3, 10])).toBeCloseTo(10 * Math.exp(-1), 15);
  });

  it('RDP of the GNSS release (Thm 23), hand-checked at λ = 2, β = 0.1, σ = 1', () => {
    const expected = 2 * Math.exp(0.2) + (-0.5 * Math.log(1 - 0.4) + 0.2) / 1;
    expect(rdpOfSmoothSensitivityGaussian(0.1, 1, 2)).toBeCloseTo(expected, 14);
    expect(() => rdpOfSmoothSensitivityGaussian(0.3, 1, 2)).toThrow(/range/);
  });

  it('log q0 is where the data-dependent bound meets α/σ²', () => {
    const sigma = 40;
    const order = 20;
    const lq0 = computeLogq0Gnmax(sigma, order);
    const diff = dataDependentBoundGnmax(sigma, lq0, order) - rdpDataIndependentGaussian(sigma, order);
    expect(Math.abs(diff)).toBeLessThan(1e-12);
  });

  it('local sensitivity bounds are non-negative and have one entry per distance', () => {
    const ls = localSensitivityBoundsGnmax([200, 30, 20, 0], 250, 40, 29);
    expect(ls).toHaveLength(250);
    ls.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
    const lt = localSensitivityBoundsThreshold([20, 10, 0], 30, 16, 2, 10);
    expect(lt).toHaveLength(30);
    lt.forEach((x) => expect(x).toBeGreaterThanOrEqual(0));
  });

  it('publishing the data-dependent ε costs something: ε with SS > ε before SS', () => {
    const votes = Array.from({ length: 30 }, (_, i) => [240 - (i % 5), 10 + (i % 5), 0, 0, 0]);
    const plan = planSmoothSensitivityRelease({
      votes,
      numTeachers: 250,
      params: { threshold: null, sigma1: null, sigma2: 40 },
      delta: 1e-5,
      orders: PATE_ORDERS,
    });
    expect(plan.dataIndependentStep2).toBe(false);
    expect(plan.epsWithSs).toBeGreaterThan(plan.epsBeforeSs);
    expect(plan.betaOpt).toBeGreaterThan(0);
  });
});
