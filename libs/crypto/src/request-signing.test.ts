import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  bodySha256Hex,
  canonicalRequest,
  readAgentIdHeader,
  type RequestHeaders,
  signRequest,
  verifyRequestSignature,
} from './request-signing';

const agentKey = nacl.sign.keyPair();
const NOW = Date.UTC(2026, 10, 30, 3, 0, 0);
const body = JSON.stringify({ batchId: 'batch-42', envelope: { version: 1 } });
const path = '/v1/batches/batch-42/answers?attempt=1';

function signed(overrides: Partial<Parameters<typeof signRequest>[0]> = {}) {
  return signRequest({
    agentId: 'agent-7',
    method: 'POST',
    path,
    body,
    secretKey: agentKey.secretKey,
    now: () => NOW,
    ...overrides,
  });
}

function check(headers: RequestHeaders, overrides: Partial<Parameters<typeof verifyRequestSignature>[0]> = {}) {
  return verifyRequestSignature({
    method: 'POST',
    path,
    body: Buffer.from(body, 'utf8'),
    headers,
    publicKey: agentKey.publicKey,
    now: () => NOW,
    ...overrides,
  });
}

describe('canonicalRequest', () => {
  it('joins the documented lines with newlines', () => {
    // sha256 of the empty string, from FIPS 180-2 / `sha256sum < /dev/null`.
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(bodySha256Hex()).toBe(empty);
    expect(bodySha256Hex('')).toBe(empty);
    // sha256("abc"), FIPS 180-2 example.
    expect(bodySha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(
      canonicalRequest({
        agentId: 'agent-7',
        method: 'get',
        path: '/v1/jobs?state=running',
        bodySha256Hex: empty,
        timestamp: 1764471600000,
        nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
      }),
    ).toBe(['concord-request-v1', 'agent-7', 'GET', '/v1/jobs?state=running', empty, '1764471600000', 'AAAAAAAAAAAAAAAAAAAAAA'].join('\n'));
  });

  it('refuses values that could blur the line structure, naming them', () => {
    const base = {
      agentId: 'agent-7',
      method: 'POST',
      path: '/x',
      bodySha256Hex: bodySha256Hex(),
      timestamp: NOW,
      nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
    };
    expect(() => canonicalRequest({ ...base, agentId: 'agent\n7' })).toThrow(/^agentId: /);
    expect(() => canonicalRequest({ ...base, path: '/x\nGET' })).toThrow(/^path: /);
    expect(() => canonicalRequest({ ...base, path: 'x' })).toThrow(/^path: /);
    expect(() => canonicalRequest({ ...base, method: 'PO ST' })).toThrow(/^method: /);
    expect(() => canonicalRequest({ ...base, bodySha256Hex: 'ABC' })).toThrow(/^bodySha256Hex: /);
    expect(() => canonicalRequest({ ...base, timestamp: 1.5 })).toThrow(/^timestamp: /);
    expect(() => canonicalRequest({ ...base, nonce: 'short' })).toThrow(/^nonce: /);
  });
});

describe('signRequest / verifyRequestSignature', () => {
  it('produces the four headers and verifies', () => {
    const headers = signed();
    expect(Object.keys(headers).sort()).toEqual(['x-concord-agent', 'x-concord-nonce', 'x-concord-signature', 'x-concord-timestamp']);
    expect(headers['x-concord-agent']).toBe('agent-7');
    expect(headers['x-concord-timestamp']).toBe(String(NOW));
    expect(headers['x-concord-nonce']).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(check(headers)).toEqual({ ok: true, agentId: 'agent-7', timestamp: NOW, nonce: headers['x-concord-nonce'] });
  });

  it('uses a fresh nonce per request', () => {
    expect(signed()['x-concord-nonce']).not.toBe(signed()['x-concord-nonce']);
  });

  it('accepts timestamps within ±5 minutes and rejects older or newer ones', () => {
    const headers = signed();
    const minutes = (m: number) => m * 60_000;
    expect(check(headers, { now: () => NOW + minutes(5) }).ok).toBe(true);
    expect(check(headers, { now: () => NOW - minutes(5) }).ok).toBe(true);
    expect(check(headers, { now: () => NOW + minutes(5) + 1 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check(headers, { now: () => NOW - minutes(5) - 1 })).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(check(headers, { now: () => NOW + 2_000, maxSkewMs: 1_000 })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('rejects a changed body, path, method, agent or key', () => {
    const headers = signed();
    const bad = { ok: false, reason: 'bad_signature' };
    expect(check(headers, { body: `${body} ` })).toEqual(bad);
    expect(check(headers, { path: '/v1/batches/batch-43/answers?attempt=1' })).toEqual(bad);
    expect(check(headers, { path: '/v1/batches/batch-42/answers' })).toEqual(bad);
    expect(check(headers, { method: 'PUT' })).toEqual(bad);
    expect(check({ ...headers, 'x-concord-agent': 'agent-8' })).toEqual(bad);
    expect(check(headers, { publicKey: nacl.sign.keyPair().publicKey })).toEqual(bad);
  });

  it('rejects a changed timestamp or nonce', () => {
    const headers = signed();
    expect(check({ ...headers, 'x-concord-timestamp': String(NOW + 1) })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(check({ ...headers, 'x-concord-nonce': 'BBBBBBBBBBBBBBBBBBBBBB' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('names the header that is missing or malformed', () => {
    const headers = signed();
    const cases: [RequestHeaders, string][] = [
      [{ ...headers, 'x-concord-agent': undefined }, 'x-concord-agent'],
      [{ ...headers, 'x-concord-agent': 'has space' }, 'x-concord-agent'],
      [{ ...headers, 'x-concord-timestamp': undefined }, 'x-concord-timestamp'],
      [{ ...headers, 'x-concord-timestamp': '2026-11-30T03:00:00Z' }, 'x-concord-timestamp'],
      [{ ...headers, 'x-concord-timestamp': `0${NOW}` }, 'x-concord-timestamp'],
      [{ ...headers, 'x-concord-timestamp': '99999999999999999' }, 'x-concord-timestamp'],
      [{ ...headers, 'x-concord-nonce': 'short' }, 'x-concord-nonce'],
      [{ ...headers, 'x-concord-signature': undefined }, 'x-concord-signature'],
      [{ ...headers, 'x-concord-signature': headers['x-concord-signature'].slice(2) }, 'x-concord-signature'],
      [{ ...headers, 'x-concord-signature': `${headers['x-concord-signature']}==` }, 'x-concord-signature'],
      [{ ...headers, 'x-concord-nonce': [headers['x-concord-nonce'], headers['x-concord-nonce']] }, 'x-concord-nonce'],
    ];
    for (const [input, name] of cases) {
      expect(check(input)).toEqual({ ok: false, reason: `malformed_header:${name}` });
    }
  });

  it('finds headers regardless of case, as a non-Node caller may pass them', () => {
    const headers = signed();
    const mixed = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toUpperCase(), value]));
    expect(check(mixed).ok).toBe(true);
    expect(readAgentIdHeader(mixed)).toBe('agent-7');
  });

  it('verifies an empty body for GET requests', () => {
    const headers = signRequest({ agentId: 'agent-7', method: 'GET', path: '/v1/batches', secretKey: agentKey.secretKey, now: () => NOW });
    expect(check(headers, { method: 'GET', path: '/v1/batches', body: undefined }).ok).toBe(true);
    expect(check(headers, { method: 'GET', path: '/v1/batches', body: new Uint8Array(0) }).ok).toBe(true);
  });

  it('rejects, without throwing, a received path that could never have been signed', () => {
    const headers = signed();
    expect(check(headers, { path: '/caf\u00e9' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('throws for a wrong-length public key (a caller bug, not a bad request)', () => {
    expect(() => check(signed(), { publicKey: new Uint8Array(31) })).toThrow(/^publicKey: expected 32 bytes, got 31$/);
  });
});
