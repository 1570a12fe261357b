import { HttpStatus, Injectable } from '@nestjs/common';
import { DP_EVENT_SCHEMA_VERSION } from '@concord/privacy';
import { API_VERSION } from '../app.factory';
import { ProblemException } from '../common/problem';
import type { JobDto } from '../jobs/dto/job.dto';
import { JobsService } from '../jobs/jobs.service';
import type { LedgerKey } from '../ledger/ledger-key';
import type { StoredEntry } from '../ledger/ledger.repository';
import { type BudgetSummary, LedgerService } from '../ledger/ledger.service';
import { LedgerVerificationService } from '../ledger/ledger-verification.service';
import type { LedgerVerificationReport } from '../ledger/verify-ledger';
import { StudentsService } from '../students/students.service';
import { type GroupPrivacyBound, groupPrivacyBound } from './group-privacy';

export const REPORT_SCHEMA = 'concord.privacy-report/v1';
export const ENTRIES_PAGE_SIZE = 50;
const ALL_ENTRIES_PAGE = 1000;

export const PRIVACY_UNIT_RECORD =
  'one record: every record is in exactly one teacher, so changing any one record of an institution changes one teacher’s votes';

/** What one institution's report says; every figure comes from LedgerService / JobsService, as the JSON API's do. */
export interface InstitutionFigures {
  budget: BudgetSummary;
  /** Every ledger entry of the institution, oldest first (for the chart, the period and exports). */
  entries: StoredEntry[];
  jobs: JobDto[];
  /** Largest number of teachers the institution declared in any job; null if it never declared one. */
  teachers: number | null;
  groupPrivacy: GroupPrivacyBound | null;
  mechanisms: string[];
  dataDependent: { jobId: string; epsilonSanitized: number; delta: number }[];
}

export interface OverviewFigures {
  institutions: InstitutionFigures[];
  verification: LedgerVerificationReport;
}

export interface ReportEntryRecord {
  seq: number;
  kind: string;
  createdAt: string;
  jobId: string | null;
  batchId: string | null;
  mechanism: string | null;
  epsilonSpent: number;
  epsilonCap: number;
  hash: string;
}

export interface ReportInstitutionRecord {
  institutionId: string;
  institutionName: string;
  status: string;
  privacyUnit: 'record';
  privacyUnitDescription: string;
  mechanisms: string[];
  epsilon: number;
  delta: number;
  epsilonCap: number;
  epsilonRemaining: number;
  basis: 'data_independent';
  /** How this institution's budget converts its total to ε (see CONVERSION_REFERENCES). */
  conversion: string;
  optimalOrder: number | null;
  ledgerEntries: number;
  period: { from: string | null; to: string | null };
  dataDependent: { jobId: string; epsilonSanitized: number; delta: number }[];
  groupPrivacy: {
    privacyUnit: 'institution';
    teachers: number;
    epsilon: number;
    delta: number | null;
    meaningful: boolean;
  } | null;
}

/** The signed export: a stable, versioned schema in the spirit of an ε registry (see docs/reports.md). */
export interface ReportDocument {
  schema: typeof REPORT_SCHEMA;
  report: 'overview' | 'institution';
  asOf: string | null;
  coordinator: { ledgerKeyAlgorithm: 'Ed25519'; ledgerKeyFingerprint: string; ledgerPublicKey: string };
  accountant: { name: string; implementation: string; version: string; dpEventSchemaVersion: number };
  conversion: { name: string; reference: string };
  ledgerVerification: { verified: boolean; institutions: number; entries: number; problems: number };
  institutions: ReportInstitutionRecord[];
  entries?: ReportEntryRecord[];
  jobs?: { jobId: string; status: string; mechanism: string; queriesAsked: number; queriesAnswered: number; epsilonCharged: number }[];
}

/** What each budget conversion is, for the export's header. */
export const CONVERSION_REFERENCES: Readonly<Record<string, string>> = {
  analytic_gaussian:
    'exact: the data-independent total is a composition of Gaussian mechanisms, √(Σμ²)-GDP (Dong, Roth, Su 2022); ε from the analytic Gaussian mechanism (Balle, Wang 2018, Theorem 8; as Google dp_accounting get_epsilon_gaussian)',
  improved: 'Canonne, Kamath, Steinke 2020, Proposition 12 (as Google dp_accounting)',
};

/** The header's conversion: the one every listed budget uses, or 'per_institution' (each record names its own). */
function conversionHeader(institutions: readonly ReportInstitutionRecord[]): { name: string; reference: string } {
  const names = [...new Set(institutions.map((i) => i.conversion))].sort();
  if (names.length === 1) return { name: names[0], reference: CONVERSION_REFERENCES[names[0]] ?? 'unknown conversion' };
  return { name: 'per_institution', reference: names.map((n) => `${n}: ${CONVERSION_REFERENCES[n] ?? 'unknown conversion'}`).join('; ') };
}

function mechanismKind(mechanism: unknown): string {
  const kind = (mechanism as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : 'unknown';
}

function iso(date: Date | null | undefined): string | null {
  return date ? new Date(date).toISOString() : null;
}

@Injectable()
export class ReportsService {
  constructor(
    private readonly ledger: LedgerService,
    private readonly verification: LedgerVerificationService,
    private readonly jobs: JobsService,
    private readonly students: StudentsService,
  ) {}

  /** The coordinator's ledger key (the ledger module exports it only through LedgerService). */
  private get key(): LedgerKey {
    return this.ledger.publicKey;
  }

  get ledgerKey(): LedgerKey {
    return this.key;
  }

  async overview(): Promise<OverviewFigures> {
    const [budgets, jobs, verification] = await Promise.all([this.ledger.listBudgets(), this.jobs.list(), this.verification.verify()]);
    const institutions = await Promise.all(budgets.map((b) => this.figuresFor(b, jobs)));
    return { institutions, verification };
  }

  async institution(institutionId: string): Promise<InstitutionFigures> {
    const [budget, jobs] = await Promise.all([this.ledger.getBudget(institutionId), this.jobs.list()]);
    return this.figuresFor(budget, jobs);
  }

  /** One page of the entries table, through the same method as GET /budgets/:id/entries. */
  async entriesPage(institutionId: string, page: number): Promise<{ entries: StoredEntry[]; total: number }> {
    return this.ledger.listEntries(institutionId, (page - 1) * ENTRIES_PAGE_SIZE, ENTRIES_PAGE_SIZE);
  }

  async job(jobId: string): Promise<{ job: JobDto; metrics: unknown; studentStatus: string }> {
    const job = await this.jobs.get(jobId);
    try {
      const student = await this.students.get(jobId);
      return { job, metrics: student.metrics, studentStatus: student.status };
    } catch (err) {
      if (err instanceof ProblemException && err.getStatus() === (HttpStatus.NOT_FOUND as number))
        return { job, metrics: null, studentStatus: 'none' };
      throw err;
    }
  }

  verify(): Promise<LedgerVerificationReport> {
    return this.verification.verify();
  }

  private async allEntries(institutionId: string): Promise<StoredEntry[]> {
    const all: StoredEntry[] = [];
    for (;;) {
      const after = all.length ? all[all.length - 1].seq : 0;
      const { entries } = await this.ledger.listEntries(institutionId, after, ALL_ENTRIES_PAGE);
      all.push(...entries);
      if (entries.length < ALL_ENTRIES_PAGE) return all;
    }
  }

  private async figuresFor(budget: BudgetSummary, allJobs: readonly JobDto[]): Promise<InstitutionFigures> {
    const entries = await this.allEntries(budget.institutionId);
    const jobs = allJobs.filter((j) => j.participants.some((p) => p.institutionId === budget.institutionId));
    const declared = jobs
      .map((j) => j.participants.find((p) => p.institutionId === budget.institutionId)?.teachers ?? null)
      .filter((t): t is number => typeof t === 'number' && t > 0);
    const teachers = declared.length ? Math.max(...declared) : null;
    return {
      budget,
      entries,
      jobs,
      teachers,
      groupPrivacy: teachers === null ? null : groupPrivacyBound(budget.epsilonSpent, budget.delta, teachers),
      mechanisms: [...new Set(jobs.map((j) => mechanismKind(j.mechanism)))].sort(),
      dataDependent: jobs
        .filter((j) => j.epsilonDataDependentSanitized !== null)
        .map((j) => ({ jobId: j.id, epsilonSanitized: j.epsilonDataDependentSanitized as number, delta: j.delta })),
    };
  }

  // --- exports ---------------------------------------------------------------------------------

  private header(
    report: ReportDocument['report'],
    verification: LedgerVerificationReport,
    asOf: Date | null,
    institutions: readonly ReportInstitutionRecord[],
  ): Omit<ReportDocument, 'institutions'> {
    return {
      schema: REPORT_SCHEMA,
      report,
      asOf: iso(asOf),
      coordinator: { ledgerKeyAlgorithm: 'Ed25519', ledgerKeyFingerprint: this.key.fingerprint, ledgerPublicKey: this.key.publicKeyBase64 },
      accountant: { name: 'rdp', implementation: '@concord/privacy', version: API_VERSION, dpEventSchemaVersion: DP_EVENT_SCHEMA_VERSION },
      conversion: conversionHeader(institutions),
      ledgerVerification: {
        verified: verification.verified,
        institutions: verification.institutions,
        entries: verification.entries,
        problems: verification.problems.length,
      },
    };
  }

  private record(f: InstitutionFigures): ReportInstitutionRecord {
    const b = f.budget;
    const first = f.entries[0];
    const last = f.entries[f.entries.length - 1];
    return {
      institutionId: b.institutionId,
      institutionName: b.institutionName,
      status: b.status,
      privacyUnit: 'record',
      privacyUnitDescription: PRIVACY_UNIT_RECORD,
      mechanisms: f.mechanisms,
      epsilon: b.epsilonSpent,
      delta: b.delta,
      epsilonCap: b.epsilonCap,
      epsilonRemaining: b.epsilonRemaining,
      basis: b.basis,
      conversion: b.conversion,
      optimalOrder: b.optimalOrder,
      ledgerEntries: b.entries,
      period: { from: iso(first?.createdAt), to: iso(last?.createdAt) },
      dataDependent: f.dataDependent,
      groupPrivacy: f.groupPrivacy
        ? {
            privacyUnit: 'institution',
            teachers: f.groupPrivacy.groupSize,
            epsilon: f.groupPrivacy.epsilon,
            // JSON has no Infinity: an overflowing δ is null, and meaningful is false.
            delta: Number.isFinite(f.groupPrivacy.delta) ? f.groupPrivacy.delta : null,
            meaningful: f.groupPrivacy.meaningful,
          }
        : null,
    };
  }

  private static latest(figures: readonly InstitutionFigures[]): Date | null {
    let latest: Date | null = null;
    for (const f of figures) {
      const last = f.entries[f.entries.length - 1];
      if (last && (!latest || last.createdAt > latest)) latest = new Date(last.createdAt);
    }
    return latest;
  }

  /**
   * Deterministic for a given ledger state (no wall-clock time in it: `asOf` is the newest ledger
   * entry), so the `.sig` fetched after the export matches unless the ledger moved in between.
   */
  async overviewDocument(): Promise<ReportDocument> {
    const { institutions, verification } = await this.overview();
    const records = institutions.map((f) => this.record(f));
    return { ...this.header('overview', verification, ReportsService.latest(institutions), records), institutions: records };
  }

  async institutionDocument(institutionId: string): Promise<ReportDocument> {
    const [f, verification] = await Promise.all([this.institution(institutionId), this.verification.verify()]);
    const record = this.record(f);
    return {
      ...this.header('institution', verification, ReportsService.latest([f]), [record]),
      institutions: [record],
      entries: f.entries.map((e) => ({
        seq: e.seq,
        kind: e.kind,
        createdAt: new Date(e.createdAt).toISOString(),
        jobId: e.jobId,
        batchId: e.batchId,
        mechanism: e.event ? mechanismKind(e.event) : null,
        epsilonSpent: e.epsilonSpent,
        epsilonCap: e.epsilonCap,
        hash: e.hash,
      })),
      jobs: f.jobs.map((j) => ({
        jobId: j.id,
        status: j.status,
        mechanism: mechanismKind(j.mechanism),
        queriesAsked: j.batched,
        queriesAnswered: j.answered,
        epsilonCharged: j.participants.find((p) => p.institutionId === institutionId)?.epsilonCharged ?? 0,
      })),
    };
  }

  /** Signs exactly these bytes with the ledger key (detached Ed25519, base64). */
  sign(bytes: Uint8Array): string {
    return this.key.signBytes(bytes);
  }
}
