import { mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BatchAnswerRequest } from '@concord/protocol';
import { isErrno, readJsonFile, writeFileAtomic } from './files';

/**
 * The sealed answer in flight. It is written before the first byte is sent and removed only once
 * the coordinator has acknowledged it (or refused it for good). After a crash the agent resends
 * exactly these bytes' contents — the same envelope and nonce — and the coordinator recognises
 * them (`already_received`) instead of storing a second answer.
 */
export interface PendingAnswer {
  version: 1;
  coordinatorUrl: string;
  jobId: string;
  batchId: string;
  seq: number;
  attempt: number;
  envelopeSha256: string;
  body: BatchAnswerRequest;
  sealedAt: string;
}

export class PendingAnswerStore {
  constructor(
    readonly path: string,
    readonly rejectedDir: string,
  ) {}

  async read(): Promise<PendingAnswer | null> {
    try {
      return (await readJsonFile(this.path)) as PendingAnswer;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  }

  write(answer: PendingAnswer): Promise<void> {
    return writeFileAtomic(this.path, `${JSON.stringify(answer)}\n`);
  }

  async clear(): Promise<void> {
    try {
      await unlink(this.path);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
  }

  /** Keeps a refused answer for investigation and clears it from the send slot. */
  async reject(answer: PendingAnswer): Promise<string> {
    await mkdir(this.rejectedDir, { recursive: true, mode: 0o700 });
    const path = join(this.rejectedDir, `${answer.batchId}-attempt-${answer.attempt}-${answer.envelopeSha256.slice(0, 12)}.json`);
    await writeFileAtomic(path, `${JSON.stringify(answer)}\n`);
    await this.clear();
    return path;
  }
}
