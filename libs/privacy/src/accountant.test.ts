import { describe, expect, it } from 'vitest';
import { RdpAccountant } from './accountant';
import { runAccountantContract } from './accountant.contract';
import {
  gaussianSoftLabelsEvent,
  gnmaxEvent,
  confidentGnmaxEvent,
  composedEvent,
  gnmaxThresholdEvent,
  nonPrivateEvent,
  noOpEvent,
} from './events/dp-event';
import { DPA_ORDERS, PATE_ORDERS } from './orders';
import { computeLogqGaussian, rdpGaussian } from './pate/gnmax';
import { rdpOfEvent } from './rdp-of-event';

describe('RdpAccountant (dp_accounting orders, data-independent)', () => {
  runAccountantContract(() => new RdpAccountant(DPA_ORDERS));
});

describe('RdpAccountant (PATE orders, data-dependent)', () => {
  runAccountantContract(() => new RdpAccountant(PATE_ORDERS, 'data_dependent'));
});

describe('RdpAccountant', () => {
  it('reports the optimal order with ε and δ', () => {
    const acc = new RdpAccountant(DPA_ORDERS).compose(gnmaxEvent(40, 1000));
    const e = acc.getEpsilon(1e-5);
    expect(DPA_ORDERS).toContain(e.optimalOrder);
    expect(acc.getDelta(e.epsilon).delta).toBeLessThanOrEqual(1e-5 * (1 + 1e-9));
  });

  it('uses per-query log q only in data-dependent mode', () => {
    const votes = [
      [240, 10, 0],
      [200, 30, 20],
    ];
    const logq = votes.map((v) => computeLogqGaussian(v, 40));
    const e = gnmaxEvent(40, 2, logq);
    const dd = rdpOfEvent(e, PATE_ORDERS, 'data_dependent');
    const expected = rdpGaussian(logq[0], 40, PATE_ORDERS).map((x, k) => x + rdpGaussian(logq[1], 40, PATE_ORDERS)[k]);
    dd.forEach((x, k) => expect(x).toBeCloseTo(expected[k], 14));
    const di = rdpOfEvent(e, PATE_ORDERS);
    di.forEach((x, k) => expect(x).toBeCloseTo((2 * PATE_ORDERS[k]) / 1600, 15));
  });

  it('charges Confident-GNMax as threshold on every query plus GNMax on the answered ones', () => {
    const a = rdpOfEvent(confidentGnmaxEvent({ threshold: 200, sigma1: 150, sigma2: 40, queries: 100, answered: 30 }), [2, 10]);
    const b = rdpOfEvent(composedEvent([gnmaxThresholdEvent(200, 150, 100), gnmaxEvent(40, 30)]), [2, 10]);
    expect(a[0]).toBeCloseTo(100 * (2 / (2 * 150 * 150)) + 30 * (2 / 1600), 15);
    expect(a[1]).toBeCloseTo(b[1], 15);
  });

  it('Gaussian soft labels cost α·C²/σ² per query (L2 sensitivity √2·C)', () => {
    expect(rdpOfEvent(gaussianSoftLabelsEvent(4, 1, 10), [3])[0]).toBeCloseTo((10 * 3 * 1) / 16, 15);
  });

  it('non-private events cost everything, no-ops nothing', () => {
    expect(new RdpAccountant().compose(nonPrivateEvent()).getEpsilon(1e-5).epsilon).toBe(Infinity);
    expect(new RdpAccountant().compose(noOpEvent()).getEpsilon(1e-5).epsilon).toBe(0);
  });
});
