import { generateIdentity, type Identity, sealAndSign, base64ToBytes } from '@concord/crypto';
import { answerContext, type BatchAssignment, buildEnrollmentRequest, signedFetch, type JsonValue } from '@concord/protocol';

/** A test agent built only on libs/protocol and libs/crypto, as a real agent is. */
export class TestAgent {
  agentId = '';
  coordinatorBoxKey: Uint8Array = new Uint8Array(32);

  constructor(
    public baseUrl: string,
    readonly identity: Identity = generateIdentity(),
  ) {}

  async enroll(token: string, coordinatorSigningPublicKey: string, teachers?: number): Promise<void> {
    const body = buildEnrollmentRequest({ token, coordinatorSigningPublicKey, identity: this.identity, ...(teachers ? { teachers } : {}) });
    const res = await fetch(`${this.baseUrl}/agents/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { agentId: string; coordinatorBoxPublicKey: string };
    if (res.status !== 201) throw new Error(`enrollment failed: ${res.status} ${JSON.stringify(json)}`);
    this.agentId = json.agentId;
    this.coordinatorBoxKey = base64ToBytes(json.coordinatorBoxPublicKey, 'coordinatorBoxPublicKey', 32);
  }

  request(method: string, path: string, body?: JsonValue, options: { now?: () => number; nonce?: string } = {}): Promise<Response> {
    return signedFetch(this.baseUrl, { method, path, body, identity: this.identity, agentId: this.agentId, ...options });
  }

  async nextBatch(): Promise<BatchAssignment | null> {
    const res = await this.request('GET', '/agent/batches/next');
    if (res.status === 204) return null;
    if (res.status !== 200) throw new Error(`next batch: ${res.status} ${await res.text()}`);
    return (await res.json()) as BatchAssignment;
  }

  /** The JSON body of an answer: `rows` sealed to the coordinator and signed, bound to this batch attempt. */
  answerBody(batch: BatchAssignment, teachers: number, rows: number[][], nonce = randomNonce()): JsonValue {
    const payload = {
      protocolVersion: 1,
      jobId: batch.jobId,
      batchId: batch.batchId,
      attempt: batch.attempt,
      kind: batch.answerKind,
      teachers,
      rows,
    };
    const envelope = sealAndSign({
      payload,
      recipientBoxPublicKey: this.coordinatorBoxKey,
      senderSigning: this.identity.signing.secretKey,
      context: answerContext(batch.jobId, batch.batchId, batch.attempt, nonce),
    });
    return { nonce, envelope } as unknown as JsonValue;
  }

  answer(batch: BatchAssignment, teachers: number, rows: number[][]): Promise<Response> {
    return this.request('POST', `/agent/batches/${batch.batchId}/answers`, this.answerBody(batch, teachers, rows));
  }
}

export function randomNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}
