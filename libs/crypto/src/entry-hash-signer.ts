import { createPrivateKey } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { ledgerEntrySigningText, signEntryHash } from './chain';
import { assertConsistentSigningKey, ED25519_PKCS8_PREFIX, ED25519_SEED_LENGTH } from './signature';

/**
 * The worker's whole program (plain CommonJS, so it runs the same from TypeScript sources and from
 * the build): it holds the key, and answers each request — a list of texts — with their Ed25519
 * signatures, base64, in order.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPrivateKey, sign } = require('node:crypto');
const key = createPrivateKey({ key: Buffer.from(workerData.pkcs8), format: 'der', type: 'pkcs8' });
parentPort.on('message', ({ id, texts }) => {
  try {
    parentPort.postMessage({ id, signatures: texts.map((t) => sign(null, Buffer.from(t, 'utf8'), key).toString('base64')) });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.message || error) });
  }
});
`;

interface Pending {
  resolve: (signatures: string[]) => void;
  reject: (error: Error) => void;
}

/**
 * Signs ledger entry hashes on a worker thread, many per message: the signatures are exactly
 * `signEntryHash`'s (Ed25519 is deterministic), but the thread that decides charges spends a
 * single message per group on them instead of ~60 µs per entry. One worker, so signing takes at
 * most one core from the database it shares a machine with.
 *
 * The worker is created on first use and does not keep the process alive. If it cannot start or
 * dies, pending requests fail (the caller's transaction is rolled back and retried) and the next
 * request starts a new one; if worker threads are unavailable altogether, signing falls back to
 * the calling thread.
 */
export class EntryHashSigner {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly pkcs8: Uint8Array;
  private workersUnavailable = false;

  constructor(private readonly secretKey: Uint8Array) {
    assertConsistentSigningKey(secretKey, 'secretKey');
    this.pkcs8 = new Uint8Array(Buffer.concat([ED25519_PKCS8_PREFIX, secretKey.subarray(0, ED25519_SEED_LENGTH)]));
    // Refuse a key node:crypto cannot load here, not in the worker.
    createPrivateKey({ key: Buffer.from(this.pkcs8), format: 'der', type: 'pkcs8' });
  }

  /** Base64 signatures of `hashes` (64 lowercase hex each), in order. */
  sign(hashes: readonly string[]): Promise<string[]> {
    if (hashes.length === 0) return Promise.resolve([]);
    let texts: string[];
    try {
      texts = hashes.map(ledgerEntrySigningText);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const worker = this.ensureWorker();
    if (!worker) return Promise.resolve(hashes.map((h) => signEntryHash(h, this.secretKey)));
    const id = this.nextId++;
    return new Promise<string[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, texts });
    });
  }

  /** Stops the worker; pending requests fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the entry signer was closed'));
    if (worker) await worker.terminate();
  }

  private ensureWorker(): Worker | undefined {
    if (this.worker || this.workersUnavailable) return this.worker;
    let worker: Worker;
    try {
      worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { pkcs8: this.pkcs8 } });
    } catch {
      this.workersUnavailable = true;
      return undefined;
    }
    worker.unref();
    worker.on('message', (reply: { id: number; signatures?: string[]; error?: string }) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.signatures) pending.resolve(reply.signatures);
      else pending.reject(new Error(`entry signing failed: ${reply.error ?? 'unknown error'}`));
    });
    // Only the current worker's loss fails what is pending: an older one's requests were failed
    // when it was closed, and what is pending now belongs to its successor.
    const lost = (error: Error): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAll(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the entry signing worker exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
  }
}
