import { describe, expect, it } from 'vitest';
import { gnmaxEvent } from './events/dp-event';
import { PrivacyFilter, checkFits } from './filter';
import { DPA_ORDERS } from './orders';
import { rdpOfEvent } from './rdp-of-event';
import { epsilonFromRdp } from './conversion';

describe('privacy filter', () => {
  const cap = { epsilon: 2, delta: 1e-5 };

  it('accepts a charge within the cap and reports ε after it', () => {
    const r = checkFits(new Float64Array(DPA_ORDERS.length), DPA_ORDERS, cap, gnmaxEvent(40, 100));
    expect(r.fits).toBe(true);
    expect(r.epsilonAfter).toBeCloseTo(epsilonFromRdp(DPA_ORDERS, rdpOfEvent(gnmaxEvent(40, 100), DPA_ORDERS), 1e-5).epsilon, 14);
  });

  it('refuses a charge that would exceed the cap and leaves the total unchanged', () => {
    const f = new PrivacyFilter(DPA_ORDERS, cap);
    expect(f.tryCharge(gnmaxEvent(40, 100)).fits).toBe(true);
    const before = f.rdp;
    const r = f.tryCharge(gnmaxEvent(40, 100_000));
    expect(r.fits).toBe(false);
    expect(r.epsilonAfter).toBeGreaterThan(2);
    expect(Array.from(f.rdp)).toEqual(Array.from(before));
  });

  it('never accepts negative costs (no refunds)', () => {
    const neg = new Float64Array(DPA_ORDERS.length).fill(-1);
    expect(() => checkFits(new Float64Array(DPA_ORDERS.length).fill(1), DPA_ORDERS, cap, neg)).toThrow(/non-negative/);
  });
});
