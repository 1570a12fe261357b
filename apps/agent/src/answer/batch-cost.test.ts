import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DPA_ORDERS } from '@concord/privacy';
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
    const cap = { epsilon: 0.7, delta: 1e-5, setAt: '' };
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
    // 0.6158 after two batches, 0.7670 after three (see test/e2e/agent-local-safety for the formula).
    const third = decideAgainstCap(ledger, cap, gnmax, 10);
    expect(third.epsilonBefore).toBeCloseTo(0.6158, 4);
    expect(third.epsilonAfter).toBeCloseTo(0.767, 4);
    expect(third.fits).toBe(false);
    // The ledger reads back the same total.
    const reopened = await LocalPrivacyLedger.open(ledger.path);
    expect(reopened.epsilonSpent(1e-5)).toBeCloseTo(0.6158, 4);
    expect(reopened.hasCharge('j', 'b1', 1)).toBe(true);
    expect(reopened.hasCharge('j', 'b1', 2)).toBe(false);
  });
});
