import type { ReportDocument } from './reports.service';

type Cell = string | number | boolean | null;

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR)
 * is prefixed with an apostrophe: a compliance officer opens these files in a spreadsheet.
 */
function field(value: Cell): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function table(header: readonly string[], rows: readonly Cell[][]): string {
  return [header, ...rows].map((r) => r.map((c) => field(c)).join(',')).join('\r\n') + '\r\n';
}

const INSTITUTION_COLUMNS = [
  'schema',
  'report',
  'as_of',
  'institution_id',
  'institution_name',
  'status',
  'privacy_unit',
  'mechanisms',
  'epsilon',
  'delta',
  'epsilon_cap',
  'epsilon_remaining',
  'basis',
  'accountant',
  'accountant_version',
  'conversion',
  'period_from',
  'period_to',
  'ledger_entries',
  'data_dependent_epsilon_sanitized',
  'institution_level_teachers',
  'institution_level_epsilon',
  'institution_level_delta',
  'institution_level_meaningful',
  'ledger_verified',
] as const;

const ENTRY_COLUMNS = [
  'schema',
  'institution_id',
  'seq',
  'kind',
  'created_at',
  'job_id',
  'batch_id',
  'mechanism',
  'epsilon_spent',
  'epsilon_cap',
  'delta',
  'accountant',
  'conversion',
  'hash',
] as const;

/** The overview as CSV: one row per institution, the same records as the JSON export. */
export function overviewCsv(doc: ReportDocument): string {
  return table(
    INSTITUTION_COLUMNS,
    doc.institutions.map((i) => [
      doc.schema,
      doc.report,
      doc.asOf,
      i.institutionId,
      i.institutionName,
      i.status,
      i.privacyUnit,
      i.mechanisms.join(';'),
      i.epsilon,
      i.delta,
      i.epsilonCap,
      i.epsilonRemaining,
      i.basis,
      doc.accountant.name,
      doc.accountant.version,
      i.conversion,
      i.period.from,
      i.period.to,
      i.ledgerEntries,
      i.dataDependent.map((d) => `${d.jobId}=${d.epsilonSanitized}`).join(';'),
      i.groupPrivacy?.teachers ?? null,
      i.groupPrivacy?.epsilon ?? null,
      i.groupPrivacy?.delta ?? null,
      i.groupPrivacy ? i.groupPrivacy.meaningful : null,
      doc.ledgerVerification.verified,
    ]),
  );
}

/** An institution as CSV: one row per ledger entry (the registry fields are in the overview CSV and the JSON). */
export function institutionCsv(doc: ReportDocument): string {
  const inst = doc.institutions[0];
  return table(
    ENTRY_COLUMNS,
    (doc.entries ?? []).map((e) => [
      doc.schema,
      inst.institutionId,
      e.seq,
      e.kind,
      e.createdAt,
      e.jobId,
      e.batchId,
      e.mechanism,
      e.epsilonSpent,
      e.epsilonCap,
      inst.delta,
      doc.accountant.name,
      inst.conversion,
      e.hash,
    ]),
  );
}
