/**
 * Sending signed requests to the coordinator, for agents.
 *
 * The signature covers the method, the request target (path and query exactly as sent), the
 * SHA-256 of the exact body bytes, a timestamp and a fresh nonce (`@concord/crypto` request
 * signing). A proxy between agent and coordinator must forward the target and the body unchanged.
 */
import { type SigningKeyPair, signRequest, type SignedRequestHeaders } from '@concord/crypto';
import type { JsonValue } from './validation';

/** Exact bytes (or UTF-8 text) to send as the body, with their content type. */
export interface RawBody {
  bytes: Uint8Array | string;
  contentType: string;
}

export interface SignedRequestOptions {
  method: string;
  /** Request target relative to the coordinator's base URL, starting with `/` (query string included). */
  path: string;
  /** A JSON body: serialised once with JSON.stringify, and exactly those bytes are signed and sent. */
  body?: JsonValue;
  /** Instead of `body`: bytes or text sent as they are. */
  rawBody?: RawBody;
  /** The agent's enrolled identity; only the signing key is used. */
  identity: { signing: SigningKeyPair };
  agentId: string;
  /** Extra headers (x-concord-* ones are ignored: they are computed). */
  headers?: Record<string, string>;
  /** Clock, milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Default: a fresh random nonce. */
  nonce?: string;
}

export interface SignedRequest {
  url: string;
  method: string;
  headers: Record<string, string> & SignedRequestHeaders;
  /** The exact bytes that were signed, or undefined for no body. */
  body: Uint8Array | undefined;
}

function encodeBody(options: SignedRequestOptions): { bytes: Uint8Array; contentType: string } | undefined {
  if (options.body !== undefined && options.rawBody !== undefined) throw new Error('body, rawBody: give one or the other');
  if (options.rawBody !== undefined) {
    const { bytes, contentType } = options.rawBody;
    return { bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, contentType };
  }
  if (options.body === undefined) return undefined;
  return { bytes: new TextEncoder().encode(JSON.stringify(options.body)), contentType: 'application/json' };
}

/** Builds a signed request without sending it (tests and custom transports use this). */
export function buildSignedRequest(baseUrl: string, options: SignedRequestOptions): SignedRequest {
  if (!options.path.startsWith('/')) throw new Error('path: must start with /');
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}${options.path}`);
  const target = `${url.pathname}${url.search}`;
  const method = options.method.toUpperCase();
  const encoded = encodeBody(options);
  const signed = signRequest({
    agentId: options.agentId,
    method,
    path: target,
    body: encoded?.bytes,
    secretKey: options.identity.signing.secretKey,
    now: options.now,
    nonce: options.nonce,
  });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!name.toLowerCase().startsWith('x-concord-')) headers[name.toLowerCase()] = value;
  }
  if (encoded !== undefined && headers['content-type'] === undefined) headers['content-type'] = encoded.contentType;
  return { url: url.toString(), method, headers: { ...headers, ...signed }, body: encoded?.bytes };
}

/**
 * Signs and sends a request to the coordinator at `baseUrl` with the global `fetch`. Returns the
 * response as is; a refusal is an `application/problem+json` body naming the reason.
 */
export async function signedFetch(baseUrl: string, options: SignedRequestOptions, fetchImpl: typeof fetch = fetch): Promise<Response> {
  const request = buildSignedRequest(baseUrl, options);
  return fetchImpl(request.url, { method: request.method, headers: request.headers, body: request.body });
}
