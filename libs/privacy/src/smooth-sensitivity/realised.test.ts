import { describe, expect, it } from 'vitest';
import { PATE_ORDERS } from '../orders';
import { computeLogqGaussian, rdpGaussianScalar } from '../pate/gnmax';
import { computeLogPrAnswered, computeRdpThresholdScalar } from '../pate/threshold';
import { planSmoothSensitivityRelease, sanitizedEpsilon } from './pipeline';

/** 60 queries of 250 teachers over 10 classes: mostly confident, some split. */
function votes(): number[][] {
  return Array.from({ length: 60 }, (_, i) => {
    const row = new Array<number>(10).fill(0);
    if (i % 6 === 5) {
      row[i % 10] = 90;
      row[(i + 1) % 10] = 85;
      row[(i + 2) % 10] = 75;
    } else {
      row[i % 10] = 230;
      row[(i + 3) % 10] = 20;
    }
    return row;
  });
}

const params = { threshold: 200, sigma1: 150, sigma2: 40 };

describe('realised Confident-GNMax plan and its sanitised ε', () => {
  it('plain GNMax with every query answered is the expectation plan itself', () => {
    const v = votes();
    const gnmaxOnly = { threshold: null, sigma1: null, sigma2: 40 };
    const expected = planSmoothSensitivityRelease({ votes: v, numTeachers: 250, params: gnmaxOnly, delta: 1e-5, orders: PATE_ORDERS });
    const realised = planSmoothSensitivityRelease({
      votes: v,
      numTeachers: 250,
      params: gnmaxOnly,
      delta: 1e-5,
      orders: PATE_ORDERS,
      answered: v.map(() => true),
    });
    expect(realised).toEqual(expected);
  });

  it('counts the threshold step on every query and GNMax only on the answered ones', () => {
    const v = votes();
    const answered = v.map((_, i) => i % 6 !== 5);
    const plan = planSmoothSensitivityRelease({ votes: v, numTeachers: 250, params, delta: 1e-5, orders: PATE_ORDERS, answered });
    const order = plan.orderOpt;
    let byHand = 0;
    v.forEach((row, i) => {
      byHand += plan.dataIndependentStep1
        ? order / (2 * 150 * 150)
        : computeRdpThresholdScalar(computeLogPrAnswered(200, 150, row), 150, order);
      if (answered[i]) byHand += plan.dataIndependentStep2 ? order / (40 * 40) : rdpGaussianScalar(computeLogqGaussian(row, 40), 40, order);
    });
    expect(plan.rdpCumulativeAtOrder).toBeCloseTo(byHand, 10);
    expect(plan.expectedAnswered).toBe(answered.filter(Boolean).length);
  });

  it('sanitises with the caller’s noise: z = 0 gives ε with the release cost, and ε grows with z', () => {
    const v = votes();
    const plan = planSmoothSensitivityRelease({
      votes: v,
      numTeachers: 250,
      params,
      delta: 1e-5,
      orders: PATE_ORDERS,
      answered: v.map((_, i) => i % 6 !== 5),
    });
    expect(sanitizedEpsilon(plan, 0)).toBeCloseTo(plan.epsWithSs, 12);
    expect(sanitizedEpsilon(plan, 1)).toBeGreaterThanOrEqual(sanitizedEpsilon(plan, 0));
    expect(sanitizedEpsilon(plan, -1e9)).toBeGreaterThan(0);
  });
});
