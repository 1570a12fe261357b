import { describe, expect, it } from 'vitest';
import { overviewCsv } from './export-csv';
import type { ReportDocument } from './reports.service';

const doc = {
  schema: 'concord.privacy-report/v1',
  report: 'overview',
  asOf: '2026-01-01T00:00:00.000Z',
  coordinator: { ledgerKeyAlgorithm: 'Ed25519', ledgerKeyFingerprint: 'f', ledgerPublicKey: 'k' },
  accountant: { name: 'rdp', implementation: '@concord/privacy', version: '0.1.0', dpEventSchemaVersion: 1 },
  conversion: { name: 'per_institution', reference: 'r' },
  ledgerVerification: { verified: true, institutions: 1, entries: 2, problems: 0 },
  institutions: [
    {
      institutionId: 'i1',
      institutionName: '=HYPERLINK("http://x","Bank, "North"")',
      status: 'active',
      privacyUnit: 'record',
      privacyUnitDescription: 'one record',
      mechanisms: ['confident_gnmax', 'gnmax'],
      epsilon: 1.25,
      delta: 1e-5,
      epsilonCap: 8,
      epsilonRemaining: 6.75,
      basis: 'data_independent',
      conversion: 'improved',
      optimalOrder: 12,
      ledgerEntries: 2,
      period: { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' },
      dataDependent: [],
      groupPrivacy: { privacyUnit: 'institution', teachers: 3, epsilon: 3.75, delta: null, meaningful: false },
    },
  ],
} satisfies ReportDocument;

describe('overviewCsv', () => {
  it('writes one RFC 4180 row per institution (with its own conversion), quoting commas and quotes and defusing formulas', () => {
    const [header, row, end] = overviewCsv(doc).split('\r\n');
    expect(header.split(',')).toHaveLength(25);
    expect(end).toBe('');
    expect(row).toContain(`"'=HYPERLINK(""http://x"",""Bank, ""North"""")"`);
    expect(row).toContain(',confident_gnmax;gnmax,1.25,0.00001,8,6.75,data_independent,rdp,0.1.0,improved,');
    expect(row.endsWith(',3,3.75,,false,true')).toBe(true);
  });
});
