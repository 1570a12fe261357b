import { appendLineDurably, readJsonLines } from './files';

/**
 * Every payload that leaves the site, in the clear, as the agent sealed it — so an operator can
 * see exactly what the coordinator can read — and the coordinator's answer to each. Append-only.
 */
export type AuditRecord =
  | {
      type: 'sealed';
      time: string;
      jobId: string;
      batchId: string;
      seq: number;
      attempt: number;
      coordinatorUrl: string;
      /** Indices of the public-pool examples answered, in row order. */
      queryIndices: number[];
      kind: 'votes' | 'probabilities';
      teachers: number;
      /** The institution-level rows exactly as sealed. */
      rows: number[][];
      /** The answer's replay nonce (also sent in the clear in the request body). */
      nonce: string;
      /** SHA-256 (hex) of the canonical JSON of the envelope, as the coordinator stores it. */
      envelopeSha256: string;
    }
  | {
      type: 'acknowledged';
      time: string;
      jobId: string;
      batchId: string;
      attempt: number;
      envelopeSha256: string;
      /** accepted / already_received, or the coordinator's refusal. */
      outcome: 'accepted' | 'already_received' | 'batch_closed' | 'rejected';
      httpStatus: number;
      detail?: string;
    };

export class AuditLog {
  constructor(readonly path: string) {}

  append(record: AuditRecord): Promise<void> {
    return appendLineDurably(this.path, JSON.stringify(record));
  }

  async read(): Promise<AuditRecord[]> {
    return (await readJsonLines(this.path)) as AuditRecord[];
  }
}
