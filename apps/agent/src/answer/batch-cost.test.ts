import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { DPA_ORDERS, epsilonFromRdp, epsilonOfGaussianDp, rdpOfEvent } from '@concord/privacy';
import { describe, expect, it } from 'vitest';
import { LocalPrivacyLedger } from '../store/privacy-ledger';
import { batchCostEvent, decideAgainstCap } from './batch-cost';

describe('the local cost of answering a batch', () => {
  it('charges Confident-GNMax as if every query passed the threshold', () => {
    const event = batchCostEvent({ kind: 'confident_gnmax', threshold: 20, sigma1: 2, sigma2: 4 }, 16);
    expect(event).toEqual({ kind: 'confident_gnmax', threshold: 20, sigma1: 2, sigma2: 4, queries: 16, answered: 16 });
  });

  it('composes with the ledger and refuses what would pass the cap', async () => {
    const ledger = await LocalPrivacyLedger.open(join(mkdtempSync(join(tmpdir(), 'concord-ledger-')), 'ledger.jsonl'));
    const cap = { epsilon: 0.65, delta: 1e-5, setAt: '' };
    const gnmax = { kind: 'gnmax' as const, sigma: 40 };
    // RDP of 10 GNMax queries at σ = 40: 10·α/1600 = α/160 (Scalable PATE Prop. 8).
    const first = decideAgainstCap(ledger, cap, gnmax, 10);
    first.rdp.forEach((r, k) => expect(r).toBeCloseTo(DPA_ORDERS[k] / 160, 12));
    expect(first.fits).toBe(true);
    for (let b = 0; b < 2; b++) {
      const d = decideAgainstCap(ledger, cap, gnmax, 10);
      await ledger.append({
        kind: 'charge',
        jobId: 'j',
        batchId: `b${b}`,
        seq: b + 1,
        attempt: 1,
        event: d.event,
        rdp: d.rdp,
        epsilonBefore: d.epsilonBefore,
        epsilonAfter: d.epsilonAfter,
        delta: cap.delta,
        time: '',
      });
    }
    // Exact (analytic Gaussian): a batch is μ² = 10·2/40² = 0.0125; 0.5613 after two batches,
    // 0.7004 after three (the improved RDP conversion would say 0.6158 and 0.7670).
    const third = decideAgainstCap(ledger, cap, gnmax, 10);
    expect(third.epsilonBefore).toBeCloseTo(0.5613, 4);
    expect(third.epsilonAfter).toBeCloseTo(0.7004, 4);
    expect(third.epsilonAfter).toBeCloseTo(epsilonOfGaussianDp(Math.sqrt(3 * 0.0125), 1e-5), 12);
    expect(third.fits).toBe(false);
    // The ledger reads back the same total.
    const reopened = await LocalPrivacyLedger.open(ledger.path);
    expect(reopened.epsilonSpent(1e-5)).toBeCloseTo(0.5613, 4);
    expect(reopened.hasCharge('j', 'b1', 1)).toBe(true);
    expect(reopened.hasCharge('j', 'b1', 2)).toBe(false);
  });

  it('falls back to the improved RDP conversion once the ledger holds something that is not Gaussian', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'concord-ledger-')), 'ledger.jsonl');
    const sampled = { kind: 'poisson_sampled', samplingProbability: 0.01, event: { kind: 'gaussian', noiseMultiplier: 1.1 } } as const;
    writeFileSync(
      path,
      `${JSON.stringify({ kind: 'charge', jobId: 'j', batchId: 'b', seq: 1, attempt: 1, event: sampled, rdp: [], epsilonBefore: 0, epsilonAfter: 0, delta: 1e-5, time: '' })}\n`,
    );
    const ledger = await LocalPrivacyLedger.open(path);
    expect(ledger.conversionWith()).toBe('improved');
    expect(ledger.epsilonSpent(1e-5)).toBe(epsilonFromRdp(DPA_ORDERS, rdpOfEvent(sampled, DPA_ORDERS), 1e-5).epsilon);
    const d = decideAgainstCap(ledger, { epsilon: 100, delta: 1e-5, setAt: '' }, { kind: 'gnmax', sigma: 40 }, 10);
    const total = rdpOfEvent(sampled, DPA_ORDERS).map((r, k) => r + DPA_ORDERS[k] / 160);
    expect(d.epsilonAfter).toBe(epsilonFromRdp(DPA_ORDERS, total, 1e-5).epsilon);
  });
});
