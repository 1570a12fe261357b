import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deltaFromRdp, epsilonFromRdp, epsilonFromRdpBasic } from './conversion';
import { DPA_ORDERS } from './orders';

describe('RDP → (ε, δ)', () => {
  it('basic conversion: ε = rdp - log δ/(α-1) (hand-checked)', () => {
    const r = epsilonFromRdpBasic([2, 3], [1, 2], 1e-5);
    // α=2: 1 + 11.512925 = 12.512925; α=3: 2 + 5.756463 = 7.756463
    expect(r.epsilon).toBeCloseTo(2 + Math.log(1e5) / 2, 12);
    expect(r.optimalOrder).toBe(3);
  });

  it('improved conversion: rdp + log1p(-1/α) - log(δα)/(α-1) (hand-checked)', () => {
    const r = epsilonFromRdp([2], [1], 1e-5);
    expect(r.epsilon).toBeCloseTo(1 + Math.log(0.5) - Math.log(2e-5), 12);
  });

  it('KL shortcut gives ε = 0 for tiny RDP, `>` vs `>=` only on exact ties', () => {
    expect(epsilonFromRdp([2, 3], [1e-12, 2e-12], 1e-5).epsilon).toBe(0);
    expect(epsilonFromRdp([2], [0], 1e-5).epsilon).toBe(0);
  });

  it('takes the first minimum on duplicated orders', () => {
    expect(epsilonFromRdpBasic([100, 100.5, 100], [0.1, 0.2, 0.1], 1e-5).optimalOrder).toBe(100);
  });

  it('δ(ε(δ)) ≤ δ and ε is monotone in the RDP', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 50, noNaN: true }), fc.double({ min: 1e-10, max: 1e-3, noNaN: true }), (sigma, delta) => {
        const rdp = DPA_ORDERS.map((a) => a / (2 * sigma * sigma));
        const e = epsilonFromRdp(DPA_ORDERS, rdp, delta);
        if (e.epsilon > 0) expect(deltaFromRdp(DPA_ORDERS, rdp, e.epsilon).delta).toBeLessThanOrEqual(delta * (1 + 1e-9));
        const more = rdp.map((x) => x * 1.01);
        expect(epsilonFromRdp(DPA_ORDERS, more, delta).epsilon).toBeGreaterThanOrEqual(e.epsilon);
      }),
    );
  });

  it('improved is never worse than basic', () => {
    const rdp = DPA_ORDERS.map((a) => (100 * a) / 2);
    expect(epsilonFromRdp(DPA_ORDERS, rdp, 1e-5).epsilon).toBeLessThanOrEqual(epsilonFromRdpBasic(DPA_ORDERS, rdp, 1e-5).epsilon);
  });
});
