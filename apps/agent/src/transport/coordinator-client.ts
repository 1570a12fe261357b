import { base64ToBytes, type Identity, publicKeyFingerprint } from '@concord/crypto';
import {
  type BatchAnswerRequest,
  type BatchAssignment,
  type CoordinatorIdentity,
  type EnrollmentRequest,
  type EnrollmentResponse,
  type JsonValue,
  signedFetch,
  validateEnrollmentResponse,
} from '@concord/protocol';
import { AgentError, EXIT } from '../cli/errors';
import { type RetryContext, TransientError, withRetry } from './retry';

/** The coordinator's verdict on one answer. */
export type SubmitOutcome =
  | { outcome: 'accepted' | 'already_received'; httpStatus: number }
  | { outcome: 'batch_closed'; httpStatus: number; detail: string }
  | { outcome: 'rejected'; httpStatus: number; detail: string; retryLater: boolean };

function baseOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new AgentError(`--url ${url}: not a URL`, EXIT.configuration);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new AgentError(`--url ${url}: must be http(s)`, EXIT.configuration);
  return url.replace(/\/+$/, '');
}

async function problemDetail(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const json = JSON.parse(text) as { detail?: string; title?: string; errors?: { field: string; message: string }[] };
    const fields = (json.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    return [json.title, json.detail, fields].filter((s) => s).join(' — ') || `HTTP ${res.status}`;
  } catch {
    return text.slice(0, 300) || `HTTP ${res.status}`;
  }
}

/** Network failures and 5xx/429 are transient; the caller's retry policy decides how long to insist. */
async function send(fetchImpl: typeof fetch, input: string, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await fetchImpl(input, init);
  } catch (error) {
    throw new TransientError(`${init.method ?? 'GET'} ${input}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (res.status >= 500 || res.status === 429) {
    throw new TransientError(`${init.method ?? 'GET'} ${input}: HTTP ${res.status} ${await problemDetail(res)}`);
  }
  return res;
}

/** Unauthenticated calls made before enrollment. */
export async function fetchCoordinatorIdentity(
  url: string,
  fetchImpl: typeof fetch,
  retry: RetryContext,
): Promise<CoordinatorIdentity & { fingerprint: string }> {
  const base = baseOf(url);
  const res = await withRetry(() => send(fetchImpl, `${base}/agents/coordinator`, { method: 'GET' }), retry);
  if (res.status !== 200) throw new AgentError(`GET ${base}/agents/coordinator: ${await problemDetail(res)}`);
  const json = (await res.json()) as CoordinatorIdentity;
  // The fingerprint is recomputed here: a value the server merely asserts proves nothing.
  const key = base64ToBytes(json.signingPublicKey, 'coordinator signingPublicKey', 32);
  base64ToBytes(json.boxPublicKey, 'coordinator boxPublicKey', 32);
  return { ...json, fingerprint: publicKeyFingerprint(key) };
}

export async function postEnrollment(
  url: string,
  request: EnrollmentRequest,
  fetchImpl: typeof fetch,
  retry: RetryContext,
): Promise<EnrollmentResponse> {
  const base = baseOf(url);
  const res = await withRetry(
    () =>
      send(fetchImpl, `${base}/agents/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request),
      }),
    retry,
  );
  if (res.status !== 201 && res.status !== 200) throw new AgentError(`enrollment refused: ${await problemDetail(res)}`, EXIT.configuration);
  const checked = validateEnrollmentResponse(await res.json());
  if (!checked.ok)
    throw new AgentError(`enrollment answer is malformed: ${checked.errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
  return checked.value;
}

/** Signed calls of an enrolled agent. */
export class CoordinatorClient {
  readonly baseUrl: string;

  constructor(
    url: string,
    private readonly agentId: string,
    private readonly identity: Identity,
    private readonly fetchImpl: typeof fetch,
    private readonly retry: RetryContext,
  ) {
    this.baseUrl = baseOf(url);
  }

  private request(method: string, path: string, body?: JsonValue): Promise<Response> {
    // A fresh signature (timestamp, request nonce) per try: a retried request is a new request.
    return withRetry(
      () =>
        signedFetch(this.baseUrl, { method, path, body, identity: this.identity, agentId: this.agentId }, (input, init) =>
          send(this.fetchImpl, typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, init ?? {}),
        ),
      this.retry,
    );
  }

  /** The next batch for this institution, or null when there is none now (204). */
  async nextBatch(): Promise<BatchAssignment | null> {
    const res = await this.request('GET', '/agent/batches/next');
    if (res.status === 204) return null;
    if (res.status !== 200) {
      throw new AgentError(
        `GET /agent/batches/next: ${await problemDetail(res)}`,
        res.status === 401 || res.status === 403 ? EXIT.configuration : EXIT.failure,
      );
    }
    return (await res.json()) as BatchAssignment;
  }

  async submitAnswer(batchId: string, body: BatchAnswerRequest): Promise<SubmitOutcome> {
    const res = await this.request('POST', `/agent/batches/${encodeURIComponent(batchId)}/answers`, body as unknown as JsonValue);
    if (res.status === 202 || res.status === 200) {
      const json = (await res.json()) as { status?: string };
      return { outcome: json.status === 'already_received' ? 'already_received' : 'accepted', httpStatus: res.status };
    }
    const detail = await problemDetail(res);
    if (res.status === 409) return { outcome: 'batch_closed', httpStatus: 409, detail };
    // 401: the request signature (clock skew, key rotated); the sealed answer itself may be fine.
    return { outcome: 'rejected', httpStatus: res.status, detail, retryLater: res.status === 401 };
  }
}
