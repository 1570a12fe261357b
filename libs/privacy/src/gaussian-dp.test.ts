import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epsilonFromRdp } from './conversion';
import type { DpEvent } from './events/dp-event';
import { UnsupportedEventError } from './events/errors';
import { deltaOfGaussianDp, epsilonOfGaussianDp, exactGaussianEpsilon, gaussianMuSquaredOfEvent } from './gaussian-dp';
import { DPA_ORDERS } from './orders';
import { rdpOfEvent } from './rdp-of-event';

interface PldCase {
  inputs: { noise_multiplier: number; q: number; steps: number; deltas: number[] };
  expected: { epsilon: number[]; method: string };
}
const pld = JSON.parse(readFileSync(join(__dirname, '..', 'test', 'vectors', 'gaussian_pld_dp_accounting.json'), 'utf8')) as {
  cases: PldCase[];
};
const analytic = pld.cases.filter((c) => c.expected.method === 'analytic_gaussian');

describe('exact (ε, δ) of Gaussian mechanisms (analytic Gaussian / GDP)', () => {
  it('reproduces dp_accounting get_epsilon_gaussian on every q = 1 reference case', () => {
    expect(analytic.length).toBeGreaterThanOrEqual(5);
    for (const c of analytic) {
      const mu = Math.sqrt(c.inputs.steps) / c.inputs.noise_multiplier;
      c.inputs.deltas.forEach((delta, i) => {
        const expected = c.expected.epsilon[i];
        const ours = epsilonOfGaussianDp(mu, delta);
        expect(Math.abs(ours - expected) / expected, `σ ${c.inputs.noise_multiplier}, ${c.inputs.steps} steps, δ ${delta}`).toBeLessThan(
          1e-9,
        );
      });
    }
  });

  it('δ(ε) is the Balle–Wang formula (hand-checked point) and ε inverts it', () => {
    // μ = 1, ε = 1: Φ(-0.5) - e Φ(-1.5) = 0.308537538725987 - 2.718281828459045 × 0.066807201268858
    expect(deltaOfGaussianDp(1, 1)).toBeCloseTo(0.308537538725987 - Math.E * 0.066807201268858, 12);
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 30, noNaN: true }), fc.double({ min: 1e-12, max: 0.1, noNaN: true }), (mu, delta) => {
        const eps = epsilonOfGaussianDp(mu, delta);
        expect(deltaOfGaussianDp(mu, eps)).toBeLessThanOrEqual(delta * (1 + 1e-9));
        if (eps > 1e-9) expect(deltaOfGaussianDp(mu, eps * (1 - 1e-6))).toBeGreaterThan(delta);
      }),
    );
  });

  it('is never above the RDP conversion of the same Gaussian composition, and close to it', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 500, noNaN: true }), fc.integer({ min: 1, max: 5000 }), (sigma, queries) => {
        const event: DpEvent = { kind: 'gaussian_soft_labels', sigma, clipNorm: 1, queries };
        const exact = exactGaussianEpsilon(event, 1e-5)!;
        const rdp = epsilonFromRdp(DPA_ORDERS, rdpOfEvent(event, DPA_ORDERS), 1e-5).epsilon;
        expect(exact).toBeLessThanOrEqual(rdp * (1 + 1e-12));
        if (rdp > 0.5 && rdp < 50) expect(exact).toBeGreaterThan(0.75 * rdp);
      }),
    );
    // bench:utility's soft-label job: 1,500 queries at σ = 120 → RDP 1.958, exact 1.80.
    const job: DpEvent = { kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1, queries: 1500 };
    expect(exactGaussianEpsilon(job, 1e-5)).toBeCloseTo(1.8005, 3);
  });

  it('edge cases: μ 0 costs nothing, μ ∞ everything; bad input is refused', () => {
    expect(epsilonOfGaussianDp(0, 1e-5)).toBe(0);
    expect(epsilonOfGaussianDp(Infinity, 1e-5)).toBe(Infinity);
    expect(deltaOfGaussianDp(2, Infinity)).toBe(0);
    expect(() => epsilonOfGaussianDp(-1, 1e-5)).toThrow(RangeError);
    expect(() => epsilonOfGaussianDp(1, 0)).toThrow(RangeError);
    expect(() => epsilonOfGaussianDp(Number.NaN, 1e-5)).toThrow(RangeError);
  });
});

describe('gaussianMuSquaredOfEvent', () => {
  // Every Gaussian-composition event: its μ² must be exactly what its data-independent RDP says
  // (α μ²/2 at every order), so that the two analyses describe the same mechanism.
  const gaussianEvents: DpEvent[] = [
    { kind: 'gaussian', noiseMultiplier: 1.3 },
    { kind: 'gnmax', sigma: 40, queries: 300 },
    { kind: 'gnmax_threshold', threshold: 175, sigma: 150, queries: 640 },
    { kind: 'confident_gnmax', threshold: 175, sigma1: 150, sigma2: 40, queries: 640, answered: 371 },
    { kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 0.7, queries: 1500 },
    { kind: 'self_composed', event: { kind: 'gnmax', sigma: 20, queries: 3 }, count: 7 },
    {
      kind: 'composed',
      events: [
        { kind: 'no_op' },
        { kind: 'gaussian', noiseMultiplier: 4 },
        { kind: 'confident_gnmax', threshold: 20, sigma1: 8, sigma2: 4, queries: 100, answered: 60 },
      ],
    },
  ];
  it.each(gaussianEvents.map((e) => [e.kind, e] as const))('%s: μ² matches its RDP α μ²/2', (_, event) => {
    const mu2 = gaussianMuSquaredOfEvent(event)!;
    expect(mu2).toBeGreaterThan(0);
    const rdp = rdpOfEvent(event, DPA_ORDERS);
    DPA_ORDERS.forEach((alpha, k) => expect(rdp[k]).toBeCloseTo((alpha * mu2) / 2, 9));
  });

  it('a Poisson-sampled Gaussian is not a Gaussian composition; no_op is free; non_private is unbounded', () => {
    const sampled: DpEvent = { kind: 'poisson_sampled', samplingProbability: 0.01, event: { kind: 'gaussian', noiseMultiplier: 1 } };
    expect(gaussianMuSquaredOfEvent(sampled)).toBeNull();
    expect(gaussianMuSquaredOfEvent({ kind: 'composed', events: [{ kind: 'gaussian', noiseMultiplier: 1 }, sampled] })).toBeNull();
    expect(exactGaussianEpsilon({ kind: 'self_composed', event: sampled, count: 3 }, 1e-5)).toBeNull();
    expect(gaussianMuSquaredOfEvent({ kind: 'no_op' })).toBe(0);
    expect(gaussianMuSquaredOfEvent({ kind: 'non_private' })).toBe(Infinity);
    expect(() => gaussianMuSquaredOfEvent({ kind: 'unsupported', description: 'x' })).toThrow(UnsupportedEventError);
  });
});
