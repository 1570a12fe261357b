/**
 * Signatures on agent → coordinator HTTP requests.
 *
 * The agent signs a canonical string of the request with its enrolled Ed25519 key and sends four
 * headers; the coordinator looks up the agent's public key by `x-concord-agent` and verifies.
 *
 * Canonical request (UTF-8, lines joined by "\n", no trailing newline):
 *
 *   concord-request-v1
 *   <agentId>
 *   <METHOD>                 upper case
 *   <path>                   the request target as sent: path and query string, not normalised
 *                            (Express: req.originalUrl)
 *   <bodySha256Hex>          SHA-256 of the exact body bytes, lowercase hex (of "" when no body)
 *   <timestamp>              milliseconds since the Unix epoch, decimal integer, no leading zeros
 *   <nonce>                  16–128 base64url characters, fresh per request
 *
 * The signature header is base64url (unpadded) of the 64-byte signature.
 *
 * Not covered: the host, other headers, and the TLS channel. Replays within the clock-skew window
 * are NOT detected here — rejecting a reused nonce needs a store shared by the coordinator's
 * replicas, so it is the caller's job (keep each (agentId, nonce) for at least twice the allowed
 * skew, since accepted timestamps span ±maxSkewMs).
 */
import { createHash, randomBytes } from 'node:crypto';
import { abytes, base64urlToBytes, bytesToBase64url, CryptoInputError, isBytes, utf8ToBytes } from './bytes';
import { ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, sign, verify } from './signature';

export const REQUEST_SIGNING_VERSION = 'concord-request-v1';
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export const AGENT_HEADER = 'x-concord-agent';
export const TIMESTAMP_HEADER = 'x-concord-timestamp';
export const NONCE_HEADER = 'x-concord-nonce';
export const SIGNATURE_HEADER = 'x-concord-signature';

export type SignedRequestHeaderName = typeof AGENT_HEADER | typeof TIMESTAMP_HEADER | typeof NONCE_HEADER | typeof SIGNATURE_HEADER;

export type SignedRequestHeaders = Record<SignedRequestHeaderName, string>;

const AGENT_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
const METHOD = /^[A-Z]{1,16}$/;
const PATH = /^\/[\x21-\x7e]*$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const TIMESTAMP = /^(?:0|[1-9][0-9]{0,15})$/;
const NONCE = /^[A-Za-z0-9_-]{16,128}$/;

export interface CanonicalRequestInput {
  agentId: string;
  method: string;
  path: string;
  bodySha256Hex: string;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  nonce: string;
}

function checkPattern(value: unknown, pattern: RegExp, name: string, expected: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new CryptoInputError(name, `expected ${expected}`);
  }
  return value;
}

/** The canonical string that is signed (see the module comment). */
export function canonicalRequest(input: CanonicalRequestInput): string {
  const method = typeof input.method === 'string' ? input.method.toUpperCase() : input.method;
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) {
    throw new CryptoInputError('timestamp', 'expected non-negative integer milliseconds since the epoch');
  }
  return [
    REQUEST_SIGNING_VERSION,
    checkPattern(input.agentId, AGENT_ID, 'agentId', '1-128 characters of [A-Za-z0-9._:@-]'),
    checkPattern(method, METHOD, 'method', 'an HTTP method'),
    checkPattern(input.path, PATH, 'path', 'a request target starting with / in printable ASCII'),
    checkPattern(input.bodySha256Hex, SHA256_HEX, 'bodySha256Hex', '64 lowercase hex digits'),
    String(input.timestamp),
    checkPattern(input.nonce, NONCE, 'nonce', '16-128 base64url characters'),
  ].join('\n');
}

/** SHA-256 of the body bytes (a string is taken as UTF-8), lowercase hex. */
export function bodySha256Hex(body: Uint8Array | string = new Uint8Array(0)): string {
  const bytes = typeof body === 'string' ? utf8ToBytes(body) : abytes(body, undefined, 'body');
  return createHash('sha256').update(bytes).digest('hex');
}

/** A fresh request nonce: 16 random bytes, base64url (22 characters). */
export function generateRequestNonce(): string {
  return bytesToBase64url(new Uint8Array(randomBytes(16)));
}

export interface SignRequestInput {
  agentId: string;
  method: string;
  path: string;
  /** The exact bytes that will be sent; a string is sent as UTF-8. Default: empty. */
  body?: Uint8Array | string;
  /** The agent's Ed25519 secret key (64 bytes). */
  secretKey: Uint8Array;
  /** Clock, milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Default: a fresh random nonce. */
  nonce?: string;
}

export function signRequest(input: SignRequestInput): SignedRequestHeaders {
  const timestamp = (input.now ?? Date.now)();
  const nonce = input.nonce ?? generateRequestNonce();
  const canonical = canonicalRequest({
    agentId: input.agentId,
    method: input.method,
    path: input.path,
    bodySha256Hex: bodySha256Hex(input.body),
    timestamp,
    nonce,
  });
  const signature = sign(utf8ToBytes(canonical), input.secretKey);
  return {
    [AGENT_HEADER]: input.agentId,
    [TIMESTAMP_HEADER]: String(timestamp),
    [NONCE_HEADER]: nonce,
    [SIGNATURE_HEADER]: bytesToBase64url(signature),
  };
}

/** Node's IncomingHttpHeaders fits this shape. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

function headerValue(headers: RequestHeaders, name: SignedRequestHeaderName): string | undefined {
  let found: string | readonly string[] | undefined = headers[name];
  if (found === undefined) {
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name) {
        if (found !== undefined) return undefined; // the same header under two spellings
        found = value;
      }
    }
  }
  // A repeated header arrives as an array: ambiguous, so refused.
  return typeof found === 'string' ? found : undefined;
}

/** The agent id claimed by a request, to look its public key up; undefined if absent or malformed. */
export function readAgentIdHeader(headers: RequestHeaders): string | undefined {
  const value = headerValue(headers, AGENT_HEADER);
  return value !== undefined && AGENT_ID.test(value) ? value : undefined;
}

export type RequestRejection = 'stale_timestamp' | 'bad_signature' | `malformed_header:${SignedRequestHeaderName}`;

export type RequestVerification = { ok: true; agentId: string; timestamp: number; nonce: string } | { ok: false; reason: RequestRejection };

export interface VerifyRequestInput {
  method: string;
  /** The request target as received (Express: req.originalUrl). */
  path: string;
  /** The raw body bytes as received (not re-serialised JSON). Default: empty. */
  body?: Uint8Array | string;
  headers: RequestHeaders;
  /** The public key enrolled for the agent named in the x-concord-agent header. */
  publicKey: Uint8Array;
  /** Clock, milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Allowed difference between the request's timestamp and now, either way. Default 5 minutes. */
  maxSkewMs?: number;
}

/**
 * Checks the headers' form, then the timestamp against the clock (±maxSkewMs; a timestamp too far
 * in the future is also `stale_timestamp`), then the signature. Does NOT check the nonce for
 * reuse: the caller must, with a store shared by every replica (see the module comment), after
 * this returns ok.
 */
export function verifyRequestSignature(input: VerifyRequestInput): RequestVerification {
  abytes(input.publicKey, ED25519_PUBLIC_KEY_LENGTH, 'publicKey');
  const maxSkewMs = input.maxSkewMs ?? MAX_CLOCK_SKEW_MS;
  if (!Number.isFinite(maxSkewMs) || maxSkewMs < 0) {
    throw new CryptoInputError('maxSkewMs', 'expected a non-negative number');
  }

  const agentId = readAgentIdHeader(input.headers);
  if (agentId === undefined) return { ok: false, reason: `malformed_header:${AGENT_HEADER}` };
  const timestampText = headerValue(input.headers, TIMESTAMP_HEADER);
  if (timestampText === undefined || !TIMESTAMP.test(timestampText) || !Number.isSafeInteger(Number(timestampText))) {
    return { ok: false, reason: `malformed_header:${TIMESTAMP_HEADER}` };
  }
  const nonce = headerValue(input.headers, NONCE_HEADER);
  if (nonce === undefined || !NONCE.test(nonce)) {
    return { ok: false, reason: `malformed_header:${NONCE_HEADER}` };
  }
  let signature: Uint8Array;
  try {
    signature = base64urlToBytes(headerValue(input.headers, SIGNATURE_HEADER), SIGNATURE_HEADER, ED25519_SIGNATURE_LENGTH);
  } catch {
    return { ok: false, reason: `malformed_header:${SIGNATURE_HEADER}` };
  }

  const timestamp = Number(timestampText);
  const now = (input.now ?? Date.now)();
  if (!(Math.abs(now - timestamp) <= maxSkewMs)) {
    return { ok: false, reason: 'stale_timestamp' };
  }

  if (input.body !== undefined && typeof input.body !== 'string' && !isBytes(input.body)) {
    throw new CryptoInputError('body', 'expected Uint8Array or string');
  }
  let canonical: string;
  try {
    canonical = canonicalRequest({
      agentId,
      method: input.method,
      path: input.path,
      bodySha256Hex: bodySha256Hex(input.body),
      timestamp,
      nonce,
    });
  } catch (error) {
    // A method or path that cannot have been signed (e.g. non-ASCII bytes in the target).
    if (error instanceof CryptoInputError) return { ok: false, reason: 'bad_signature' };
    throw error;
  }
  if (!verify(utf8ToBytes(canonical), signature, input.publicKey)) {
    return { ok: false, reason: 'bad_signature' };
  }
  return { ok: true, agentId, timestamp, nonce };
}
