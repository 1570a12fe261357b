import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateVectorsDir, formatReport } from './evaluate';

const VECTORS = resolve(__dirname, '../../test/vectors');

describe('reference vectors (upstream TF Privacy, dp_accounting, PATE)', () => {
  it('every counted case passes, and the emitted values re-check against themselves', () => {
    const out = mkdtempSync(join(tmpdir(), 'concord-vectors-'));
    try {
      const report = evaluateVectorsDir(VECTORS, out);
      expect(report.failed, formatReport(report)).toBe(0);
      expect(report.passed).toBeGreaterThanOrEqual(430);
      const emitted = JSON.parse(readFileSync(join(out, 'pate_gnmax_cumulative.json'), 'utf8'));
      expect(emitted.cases[0].expected.epsilon_final).toHaveLength(2);
      const again = evaluateVectorsDir(out);
      expect(again.failed, formatReport(again)).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
