import type { LedgerEntryKind } from './entities/ledger-entry.entity';

/** The columns of a ledger entry that its hash covers (everything but `id`, `hash` and `signature`). */
export interface LedgerEntryFields {
  institutionId: string;
  seq: number;
  kind: LedgerEntryKind;
  jobId: string | null;
  batchId: string | null;
  event: unknown;
  eventSchemaVersion: number | null;
  details: unknown;
  rdp: readonly number[];
  epsilonSpent: number;
  optimalOrder: number | null;
  epsilonCap: number;
  createdAt: Date;
}

export const LEDGER_BODY_VERSION = 1;

/**
 * The JSON object whose canonical form is hashed into the chain (see libs/crypto `hashEntry`).
 * It is rebuilt from the stored columns when the ledger is verified, so a change to any column —
 * the event, the RDP vector, the cap, the time — breaks the hash. One definition, used by the
 * writer and the verifier alike.
 */
export function ledgerEntryBody(entry: LedgerEntryFields): Record<string, unknown> {
  return {
    v: LEDGER_BODY_VERSION,
    institutionId: entry.institutionId,
    seq: entry.seq,
    kind: entry.kind,
    jobId: entry.jobId,
    batchId: entry.batchId,
    event: entry.event ?? null,
    eventSchemaVersion: entry.eventSchemaVersion,
    details: entry.details ?? null,
    // A frozen array is passed as is: it cannot change, and canonical JSON reuses its text.
    rdp: Array.isArray(entry.rdp) && Object.isFrozen(entry.rdp) ? entry.rdp : [...entry.rdp],
    epsilonSpent: entry.epsilonSpent,
    optimalOrder: entry.optimalOrder,
    epsilonCap: entry.epsilonCap,
    createdAt: entry.createdAt.toISOString(),
  };
}
