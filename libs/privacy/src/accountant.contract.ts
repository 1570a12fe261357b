import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { DpEvent } from './events/dp-event';
import { gaussianEvent, gnmaxEvent, poissonSampledEvent, selfComposedEvent, unsupportedEvent } from './events/dp-event';
import { UnsupportedEventError } from './events/errors';

/** What every accountant exposes to the contract suite. */
export interface AccountantUnderTest {
  compose(event: DpEvent, count?: number): unknown;
  getEpsilon(delta: number): { epsilon: number };
}

/**
 * The accountant contract (after dp_accounting privacy_accountant_test.py): every accountant runs
 * these. `make` returns a fresh, empty accountant.
 */
export function runAccountantContract(make: () => AccountantUnderTest): void {
  const sample: DpEvent[] = [gaussianEvent(2), poissonSampledEvent(0.01, gaussianEvent(1.1)), gnmaxEvent(40, 5)];

  it('contract: no events → ε = 0', () => {
    expect(make().getEpsilon(1e-5).epsilon).toBe(0);
  });

  it('contract: unsupported events are named in the error and change nothing', () => {
    const acc = make();
    acc.compose(gaussianEvent(3));
    const before = acc.getEpsilon(1e-5).epsilon;
    expect(() => acc.compose(unsupportedEvent('Laplace noisy max'))).toThrow(UnsupportedEventError);
    expect(() => acc.compose(unsupportedEvent('Laplace noisy max'))).toThrow(/unsupported/);
    expect(() => acc.compose(poissonSampledEvent(0.1, gnmaxEvent(40, 1)))).toThrow(/poisson_sampled\(gnmax\)/);
    expect(acc.getEpsilon(1e-5).epsilon).toBe(before);
  });

  it('contract: k-fold composition equals self-composition', () => {
    for (const e of sample) {
      for (const k of [1, 3, 10]) {
        const a = make();
        for (let i = 0; i < k; i++) a.compose(e);
        const b = make().compose(selfComposedEvent(e, k)) as AccountantUnderTest;
        const c = make().compose(e, k) as AccountantUnderTest;
        const ea = a.getEpsilon(1e-6).epsilon;
        expect(b.getEpsilon(1e-6).epsilon).toBeCloseTo(ea, 10);
        expect(c.getEpsilon(1e-6).epsilon).toBeCloseTo(ea, 10);
      }
    }
  });

  it('contract: ε is monotone in the number of queries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 500 }),
        fc.double({ min: 5, max: 200, noNaN: true }),
        (n, extra, sigma) => {
          const e = gnmaxEvent(sigma, 1);
          const small = make().compose(e, n) as AccountantUnderTest;
          const large = make().compose(e, n + extra) as AccountantUnderTest;
          expect(large.getEpsilon(1e-5).epsilon).toBeGreaterThanOrEqual(small.getEpsilon(1e-5).epsilon);
        },
      ),
      { numRuns: 50 },
    );
  });
}
