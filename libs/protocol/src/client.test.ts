import { generateIdentity, verifyRequestSignature } from '@concord/crypto';
import { describe, expect, it } from 'vitest';
import { buildSignedRequest, signedFetch } from './client';

const AGENT = '6f1c1f9e-2a7e-4b2c-9d1e-0c8a7b6d5e4f';

describe('signed requests', () => {
  const identity = generateIdentity();

  it('signs the exact JSON bytes it sends, with the target as the server will see it', () => {
    const request = buildSignedRequest('http://coordinator:3000/', {
      method: 'post',
      path: '/jobs/1/answers?batch=7',
      body: { votes: [1, 2, 3] },
      identity,
      agentId: AGENT,
      headers: { 'x-concord-nonce': 'ignored-because-computed', accept: 'application/json' },
    });
    expect(request.url).toBe('http://coordinator:3000/jobs/1/answers?batch=7');
    expect(request.method).toBe('POST');
    expect(new TextDecoder().decode(request.body)).toBe('{"votes":[1,2,3]}');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['x-concord-nonce']).not.toBe('ignored-because-computed');
    const verdict = verifyRequestSignature({
      method: 'POST',
      path: '/jobs/1/answers?batch=7',
      body: request.body,
      headers: request.headers,
      publicKey: identity.signing.publicKey,
    });
    expect(verdict).toMatchObject({ ok: true, agentId: AGENT });
    const tampered = verifyRequestSignature({
      method: 'POST',
      path: '/jobs/1/answers?batch=7',
      body: '{"votes":[1,2,4]}',
      headers: request.headers,
      publicKey: identity.signing.publicKey,
    });
    expect(tampered).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('signs an empty body when there is none, and refuses two bodies', () => {
    const request = buildSignedRequest('http://c', { method: 'GET', path: '/agents/me', identity, agentId: AGENT, now: () => 1_000 });
    expect(request.body).toBeUndefined();
    expect(request.headers['x-concord-timestamp']).toBe('1000');
    expect(
      verifyRequestSignature({
        method: 'GET',
        path: '/agents/me',
        headers: request.headers,
        publicKey: identity.signing.publicKey,
        now: () => 1_000,
      }).ok,
    ).toBe(true);
    expect(() =>
      buildSignedRequest('http://c', {
        method: 'POST',
        path: '/x',
        body: {},
        rawBody: { bytes: 'a', contentType: 'text/plain' },
        identity,
        agentId: AGENT,
      }),
    ).toThrow(/body, rawBody/);
    expect(() => buildSignedRequest('http://c', { method: 'GET', path: 'agents/me', identity, agentId: AGENT })).toThrow(/path/);
  });

  it('sends through the given fetch', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const fakeFetch = ((url: string, init: RequestInit) => {
      seen.push({ url, init });
      return Promise.resolve(new Response('{}', { status: 200 }));
    }) as unknown as typeof fetch;
    const res = await signedFetch('http://c', { method: 'GET', path: '/agents/me', identity, agentId: AGENT }, fakeFetch);
    expect(res.status).toBe(200);
    expect(seen[0].url).toBe('http://c/agents/me');
    expect(Object.keys(seen[0].init.headers as Record<string, string>)).toEqual(
      expect.arrayContaining(['x-concord-agent', 'x-concord-timestamp', 'x-concord-nonce', 'x-concord-signature']),
    );
  });
});

describe('@concord/protocol', () => {
  it('imports only @concord/crypto, node: built-ins and its own files', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    for (const file of readdirSync(__dirname).filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
      const source = readFileSync(`${__dirname}/${file}`, 'utf8');
      for (const match of source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)) {
        expect(match[1], `${file} imports ${match[1]}`).toMatch(/^(?:@concord\/crypto|node:[a-z/_]+|\.\/[a-z-]+)$/);
      }
    }
  });
});
