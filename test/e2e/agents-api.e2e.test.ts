import { type Identity, bytesToBase64, generateIdentity } from '@concord/crypto';
import {
  buildEnrollmentRequest,
  buildKeyRotationRequest,
  buildSignedRequest,
  enrollmentTokenSha256,
  type JsonValue,
  signedFetch,
  verifyBoxKeyStatement,
} from '@concord/protocol';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentRequestAuthenticator } from '../../apps/coordinator/src/agents/agent-authenticator';
import { ENROLLMENT_FAILURES_PER_WINDOW } from '../../apps/coordinator/src/agents/enrollment-rate-limit.guard';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

interface Reply {
  status: number;
  type: string;
  json: any;
}

interface Counts {
  agents: number;
  agentKeys: number;
  tokens: number;
  usedTokens: number;
  nonces: number;
  activeInstitutions: number;
  revokedAgents: number;
}

describe(`agents: enrollment, signed requests, rotation and revocation over HTTP (${process.env.DATABASE_URL ? 'Postgres' : 'PGlite'})`, () => {
  let db: TestDatabase;
  let running: RunningApp;
  let sql: Client;
  let admin: string;
  let compliance: string;
  let coordinatorKey: string;
  let institutionId: string;

  async function call(method: string, path: string, key?: string, body?: unknown): Promise<Reply> {
    const res = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return reply(res);
  }

  async function reply(res: Response): Promise<Reply> {
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: text ? JSON.parse(text) : null };
  }

  async function signed(
    identity: Identity,
    agentId: string,
    method: string,
    path: string,
    body?: JsonValue,
    extra: { now?: () => number; nonce?: string } = {},
  ): Promise<Reply> {
    return reply(await signedFetch(running.baseUrl, { method, path, body, identity, agentId, ...extra }));
  }

  async function send(request: ReturnType<typeof buildSignedRequest>): Promise<Reply> {
    return reply(await fetch(request.url, { method: request.method, headers: request.headers, body: request.body }));
  }

  async function counts(): Promise<Counts> {
    const { rows } = await sql.query<Record<keyof Counts, string>>(`SELECT
      (SELECT count(*) FROM agents) AS "agents",
      (SELECT count(*) FROM agent_keys) AS "agentKeys",
      (SELECT count(*) FROM enrollment_tokens) AS "tokens",
      (SELECT count(*) FROM enrollment_tokens WHERE used_at IS NOT NULL) AS "usedTokens",
      (SELECT count(*) FROM agent_request_nonces) AS "nonces",
      (SELECT count(*) FROM institutions WHERE status = 'active') AS "activeInstitutions",
      (SELECT count(*) FROM agents WHERE status = 'revoked') AS "revokedAgents"`);
    return Object.fromEntries(Object.entries(rows[0]).map(([k, v]) => [k, Number(v)])) as unknown as Counts;
  }

  async function newInstitution(name: string): Promise<string> {
    const created = await call('POST', '/institutions', admin, { name, epsilonCap: 4, delta: 1e-6 });
    expect(created.status).toBe(201);
    return created.json.id as string;
  }

  async function issueToken(institution = institutionId, ttlSeconds?: number): Promise<string> {
    const res = await call('POST', `/institutions/${institution}/enrollment-tokens`, admin, ttlSeconds === undefined ? {} : { ttlSeconds });
    expect(res.status).toBe(201);
    return res.json.token as string;
  }

  function enrollmentBody(
    token: string,
    identity: Identity,
    extra: { agentName?: string; teachers?: number } = {},
  ): Record<string, unknown> {
    return { ...buildEnrollmentRequest({ token, coordinatorSigningPublicKey: coordinatorKey, identity, ...extra }) };
  }

  async function enrollAgent(identity = generateIdentity(), institution = institutionId): Promise<{ identity: Identity; agentId: string }> {
    const res = await call(
      'POST',
      '/agents/enroll',
      undefined,
      enrollmentBody(await issueToken(institution), identity, { agentName: 'gpu-01', teachers: 5 }),
    );
    expect(res.status).toBe(201);
    return { identity, agentId: res.json.agentId as string };
  }

  function expectProblem(res: Reply, status: number, field?: string): void {
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/application\/problem\+json/);
    expect(res.json.status).toBe(status);
    if (field !== undefined) expect((res.json.errors as { field: string }[]).map((e) => e.field)).toContain(field);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    const keys = running.app.get(ApiKeysService);
    admin = (await keys.create('admin', 'test admin')).key;
    compliance = (await keys.create('compliance', 'test compliance')).key;
    const coordinator = await call('GET', '/agents/coordinator');
    expect(coordinator.status).toBe(200);
    coordinatorKey = coordinator.json.signingPublicKey as string;
    institutionId = await newInstitution('Hospital North');
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
    await db?.close();
  });

  describe('enrollment tokens', () => {
    it('are issued once to an admin, listed without the token, and refused to others', async () => {
      const before = await counts();
      const created = await call('POST', `/institutions/${institutionId}/enrollment-tokens`, admin, { ttlSeconds: 3600 });
      expect(created.status).toBe(201);
      expect(created.json.token).toMatch(/^cet_[A-Za-z0-9_-]{43}$/);
      const lifetime = new Date(created.json.expiresAt as string).getTime() - Date.now();
      expect(lifetime).toBeGreaterThan(3590_000);
      expect(lifetime).toBeLessThan(3610_000);
      const defaulted = await call('POST', `/institutions/${institutionId}/enrollment-tokens`, admin, {});
      const defaultLifetime = new Date(defaulted.json.expiresAt as string).getTime() - Date.now();
      expect(Math.abs(defaultLifetime - 24 * 3600_000)).toBeLessThan(10_000);
      expect((await counts()).tokens).toBe(before.tokens + 2);

      const listed = await call('GET', `/institutions/${institutionId}/enrollment-tokens`, admin);
      expect(listed.status).toBe(200);
      const mine = (listed.json as Record<string, unknown>[]).find((t) => t.id === created.json.id);
      expect(mine).toMatchObject({ status: 'unused', usedAt: null, agentId: null, institutionId });
      expect(JSON.stringify(listed.json)).not.toContain(created.json.token);
      const stored = await sql.query(`SELECT token_sha256 FROM enrollment_tokens WHERE id = $1`, [created.json.id]);
      expect(stored.rows[0].token_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(stored.rows[0].token_sha256).not.toContain(created.json.token.slice(4, 20));

      expectProblem(await call('POST', `/institutions/${institutionId}/enrollment-tokens`, compliance, {}), 403);
      expectProblem(await call('GET', `/institutions/${institutionId}/enrollment-tokens`, compliance), 403);
      expectProblem(await call('POST', `/institutions/${institutionId}/enrollment-tokens`, undefined, {}), 401);
    });

    it('refuse a bad lifetime or institution, naming the field, and write nothing', async () => {
      const before = await counts();
      const base = `/institutions/${institutionId}/enrollment-tokens`;
      expectProblem(await call('POST', base, admin, { ttlSeconds: 8 * 24 * 3600 }), 400, 'body.ttlSeconds');
      expectProblem(await call('POST', base, admin, { ttlSeconds: 10 }), 400, 'body.ttlSeconds');
      expectProblem(await call('POST', base, admin, { ttlSeconds: 'soon' }), 400, 'body.ttlSeconds');
      expectProblem(await call('POST', base, admin, { token: 'mine' }), 400, 'body.token');
      expectProblem(await call('POST', '/institutions/not-a-uuid/enrollment-tokens', admin, {}), 400, 'path.institutionId');
      expectProblem(await call('POST', '/institutions/00000000-0000-4000-8000-000000000000/enrollment-tokens', admin, {}), 404);
      expect(await counts()).toEqual(before);
    });
  });

  describe('enrollment', () => {
    it('creates an agent from a token, a proof and two keys, and activates the institution', async () => {
      const institution = await newInstitution('Bank Pending');
      expect((await call('GET', `/institutions/${institution}`, admin)).json.status).toBe('pending');
      const token = await issueToken(institution);
      const identity = generateIdentity();
      const before = await counts();
      const res = await call(
        'POST',
        '/agents/enroll',
        undefined,
        enrollmentBody(token, identity, { agentName: 'risk-cluster', teachers: 8 }),
      );
      expect(res.status).toBe(201);
      const coordinator = await call('GET', '/agents/coordinator');
      expect(res.json).toEqual({
        protocolVersion: 1,
        agentId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        institutionId: institution,
        coordinatorSigningPublicKey: coordinatorKey,
        coordinatorBoxPublicKey: coordinator.json.boxPublicKey,
        coordinatorBoxKeySignature: coordinator.json.boxKeySignature,
      });
      const ledgerKey = await call('GET', '/ledger/public-key');
      expect(coordinatorKey).toBe(ledgerKey.json.publicKey);
      expect((await call('GET', `/institutions/${institution}`, admin)).json.status).toBe('active');
      expect(await counts()).toEqual({
        ...before,
        agents: before.agents + 1,
        agentKeys: before.agentKeys + 1,
        usedTokens: before.usedTokens + 1,
        activeInstitutions: before.activeInstitutions + 1,
      });
      const tokens = await call('GET', `/institutions/${institution}/enrollment-tokens`, admin);
      expect(tokens.json[0]).toMatchObject({ status: 'used', agentId: res.json.agentId });
      const agent = await call('GET', `/agents/${res.json.agentId}`, compliance);
      expect(agent.json).toMatchObject({
        name: 'risk-cluster',
        teachers: 8,
        status: 'active',
        signingPublicKey: bytesToBase64(identity.signing.publicKey),
        boxPublicKey: bytesToBase64(identity.box.publicKey),
      });
      expect(agent.json.keys).toHaveLength(1);

      // A second agent of the same institution, with its own token.
      const second = await enrollAgent(generateIdentity(), institution);
      const listed = await call('GET', `/agents?institutionId=${institution}`, admin);
      expect((listed.json as { id: string }[]).map((a) => a.id).sort()).toEqual([res.json.agentId, second.agentId].sort());
    });

    it('signs its box key with the ledger key, in the coordinator identity, the enrollment answer and /agents/me', async () => {
      const coordinator = await call('GET', '/agents/coordinator');
      const ledgerKey = (await call('GET', '/ledger/public-key')).json.publicKey as string;
      const { boxPublicKey, boxKeySignature } = coordinator.json as { boxPublicKey: string; boxKeySignature: string };
      expect(boxKeySignature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
      expect(verifyBoxKeyStatement({ coordinatorSigningPublicKey: ledgerKey, boxPublicKey }, boxKeySignature)).toBe(true);
      // The signature is over this box key and this signing key only.
      const other = generateIdentity();
      expect(
        verifyBoxKeyStatement(
          { coordinatorSigningPublicKey: ledgerKey, boxPublicKey: bytesToBase64(other.box.publicKey) },
          boxKeySignature,
        ),
      ).toBe(false);
      expect(
        verifyBoxKeyStatement({ coordinatorSigningPublicKey: bytesToBase64(other.signing.publicKey), boxPublicKey }, boxKeySignature),
      ).toBe(false);

      const enrolled = await call('POST', '/agents/enroll', undefined, enrollmentBody(await issueToken(), generateIdentity()));
      expect(enrolled.status).toBe(201);
      expect(enrolled.json.coordinatorBoxKeySignature).toBe(boxKeySignature);
      const { identity, agentId } = await enrollAgent();
      const me = await signed(identity, agentId, 'GET', '/agents/me');
      expect(me.json.coordinator).toEqual(coordinator.json);
    });

    it('accepts a token only once, even when two enrollments race', async () => {
      const institution = await newInstitution('Bank Racing');
      const token = await issueToken(institution);
      const before = await counts();
      const racers = Array.from({ length: 8 }, () => enrollmentBody(token, generateIdentity()));
      const results = await Promise.all(racers.map((body) => call('POST', '/agents/enroll', undefined, body)));
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, ...Array<number>(7).fill(410)]);
      for (const loser of results.filter((r) => r.status === 410)) expectProblem(loser, 410, 'body.token');
      expect(await counts()).toEqual({
        ...before,
        agents: before.agents + 1,
        agentKeys: before.agentKeys + 1,
        usedTokens: before.usedTokens + 1,
        activeInstitutions: before.activeInstitutions + 1,
      });
      // Later, too.
      expectProblem(await call('POST', '/agents/enroll', undefined, enrollmentBody(token, generateIdentity())), 410, 'body.token');
      expect((await counts()).agents).toBe(before.agents + 1);
    });

    it('refuses expired and unknown tokens with nothing written', async () => {
      const token = await issueToken(institutionId, 60);
      await sql.query(
        `UPDATE enrollment_tokens SET created_at = now() - interval '2 hours', expires_at = now() - interval '1 second' WHERE token_sha256 = $1`,
        [enrollmentTokenSha256(token)],
      );
      const before = await counts();
      const expired = await call('POST', '/agents/enroll', undefined, enrollmentBody(token, generateIdentity()));
      expectProblem(expired, 410, 'body.token');
      expect(expired.json.title).toBe('Enrollment token expired');
      const unknown = await call('POST', '/agents/enroll', undefined, enrollmentBody(`cet_${'A'.repeat(43)}`, generateIdentity()));
      expectProblem(unknown, 401, 'body.token');
      expect(await counts()).toEqual(before);
      const listed = await call('GET', `/institutions/${institutionId}/enrollment-tokens`, admin);
      expect((listed.json as { status: string }[]).some((t) => t.status === 'expired')).toBe(true);
    });

    it('refuses a proof that does not bind the keys, the token or this coordinator, and leaves the token usable', async () => {
      const token = await issueToken();
      const identity = generateIdentity();
      const before = await counts();
      const other = generateIdentity();
      // Signed by another key than the one enrolled.
      const wrongSigner = { ...enrollmentBody(token, other), signingPublicKey: bytesToBase64(identity.signing.publicKey) };
      // Signed for another coordinator.
      const wrongCoordinator = {
        ...buildEnrollmentRequest({ token, coordinatorSigningPublicKey: bytesToBase64(other.signing.publicKey), identity }),
      };
      // Box key swapped after signing.
      const swappedBox = { ...enrollmentBody(token, identity), boxPublicKey: bytesToBase64(other.box.publicKey) };
      // Teachers changed after signing.
      const changedTeachers = { ...enrollmentBody(token, identity, { teachers: 3 }), teachers: 30 };
      // Made for another token.
      const otherToken = { ...enrollmentBody(`cet_${'B'.repeat(43)}`, identity), token };
      for (const body of [wrongSigner, wrongCoordinator, swappedBox, changedTeachers, otherToken]) {
        const res = await call('POST', '/agents/enroll', undefined, body);
        expectProblem(res, 400, 'body.proof');
      }
      expect(await counts()).toEqual(before);
      expect((await call('POST', '/agents/enroll', undefined, enrollmentBody(token, identity))).status).toBe(201);
    });

    it('refuses malformed fields, naming each, with nothing written', async () => {
      const token = await issueToken();
      const identity = generateIdentity();
      const before = await counts();
      const good = enrollmentBody(token, identity);
      const bad = await call('POST', '/agents/enroll', undefined, {
        ...good,
        signingPublicKey: 'not base64',
        boxPublicKey: bytesToBase64(new Uint8Array(31)),
        proof: 42,
        teachers: 0,
        extra: true,
      });
      expectProblem(bad, 400);
      expect((bad.json.errors as { field: string }[]).map((e) => e.field)).toEqual(
        expect.arrayContaining(['body.signingPublicKey', 'body.boxPublicKey', 'body.proof', 'body.teachers', 'body.extra']),
      );
      expectProblem(
        await call('POST', '/agents/enroll', undefined, { ...good, boxPublicKey: bytesToBase64(new Uint8Array(32)) }),
        400,
        'body.boxPublicKey',
      );
      expectProblem(await call('POST', '/agents/enroll', undefined, { ...good, protocolVersion: 2 }), 400, 'body.protocolVersion');
      expectProblem(await call('POST', '/agents/enroll', undefined, { ...good, token: 'cet_short' }), 400, 'body.token');
      expectProblem(await call('POST', '/agents/enroll', undefined, '{"token": '), 400);
      // Non-canonical base64 (trailing bits set) passes the shape check but not the protocol's.
      const last = good.signingPublicKey as string;
      const nonCanonical = `${last.slice(0, 42)}${String.fromCharCode(last.charCodeAt(42) ^ 1)}=`;
      expectProblem(
        await call('POST', '/agents/enroll', undefined, { ...good, signingPublicKey: nonCanonical }),
        400,
        'body.signingPublicKey',
      );
      expect(await counts()).toEqual(before);
    });

    it('refuses enrollment into a suspended institution without consuming the token', async () => {
      const institution = await newInstitution('Bank Suspended');
      const token = await issueToken(institution);
      await sql.query(`UPDATE institutions SET status = 'suspended' WHERE id = $1`, [institution]);
      const before = await counts();
      expectProblem(await call('POST', '/agents/enroll', undefined, enrollmentBody(token, generateIdentity())), 403);
      expectProblem(await call('POST', `/institutions/${institution}/enrollment-tokens`, admin, {}), 409);
      expect(await counts()).toEqual(before);
      const tokens = await call('GET', `/institutions/${institution}/enrollment-tokens`, admin);
      expect(tokens.json[0]).toMatchObject({ status: 'unused', usedAt: null });
    });

    it('refuses a signing key that is already enrolled, without consuming the token', async () => {
      const { identity } = await enrollAgent();
      const token = await issueToken();
      const before = await counts();
      expectProblem(await call('POST', '/agents/enroll', undefined, enrollmentBody(token, identity)), 409, 'body.signingPublicKey');
      expect(await counts()).toEqual(before);
    });
  });

  describe('signed agent requests', () => {
    let a: { identity: Identity; agentId: string };
    let b: { identity: Identity; agentId: string };

    beforeAll(async () => {
      a = await enrollAgent();
      b = await enrollAgent();
    });

    it('accepts a signed request and puts the agent on it', async () => {
      const me = await signed(a.identity, a.agentId, 'GET', '/agents/me');
      expect(me.status).toBe(200);
      expect(me.json).toMatchObject({
        protocolVersion: 1,
        agent: { id: a.agentId, institutionId, status: 'active', signingPublicKey: bytesToBase64(a.identity.signing.publicKey) },
        institution: { id: institutionId, name: 'Hospital North', status: 'active' },
        coordinator: { signingPublicKey: coordinatorKey },
      });
      const withQuery = await signed(a.identity, a.agentId, 'GET', '/agents/me?verbose=1');
      expect(withQuery.status).toBe(200);
    });

    it('refuses a replayed request, even identical and within the time window', async () => {
      const request = buildSignedRequest(running.baseUrl, { method: 'GET', path: '/agents/me', identity: a.identity, agentId: a.agentId });
      expect((await send(request)).status).toBe(200);
      const before = await counts();
      const replay = await send(request);
      expectProblem(replay, 401, 'header.x-concord-nonce');
      expect(replay.json.title).toBe('Replayed request');
      // The nonce belongs to the agent: the same nonce from another agent is a different request.
      expect(
        (await signed(b.identity, b.agentId, 'GET', '/agents/me', undefined, { nonce: request.headers['x-concord-nonce'] })).status,
      ).toBe(200);
      expect((await counts()).nonces).toBe(before.nonces + 1);
    });

    it('accepts one of several identical requests sent at once, and refuses a replay on another replica', async () => {
      const request = buildSignedRequest(running.baseUrl, { method: 'GET', path: '/agents/me', identity: a.identity, agentId: a.agentId });
      const statuses = (await Promise.all(Array.from({ length: 5 }, () => send(request)))).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 401, 401, 401, 401]);

      const replica = await startTestApp(db.url, { ledgerKeyFile: running.config.ledgerKeyFile, boxKeyFile: running.config.boxKeyFile });
      try {
        const fresh = buildSignedRequest(running.baseUrl, { method: 'GET', path: '/agents/me', identity: a.identity, agentId: a.agentId });
        expect((await send(fresh)).status).toBe(200);
        expectProblem(await send({ ...fresh, url: `${replica.baseUrl}/agents/me` }), 401, 'header.x-concord-nonce');
        // The replica serves the same identity and sees a revocation made on the first one at once.
        const c = await enrollAgent();
        expect(
          (await reply(await signedFetch(replica.baseUrl, { method: 'GET', path: '/agents/me', identity: c.identity, agentId: c.agentId })))
            .status,
        ).toBe(200);
        expect((await call('POST', `/agents/${c.agentId}/revoke`, admin, { reason: 'replica test' })).status).toBe(200);
        const refused = await reply(
          await signedFetch(replica.baseUrl, { method: 'GET', path: '/agents/me', identity: c.identity, agentId: c.agentId }),
        );
        expectProblem(refused, 403);
      } finally {
        await replica.close();
      }
    });

    it('refuses stale and future timestamps', async () => {
      const before = await counts();
      const stale = await signed(a.identity, a.agentId, 'GET', '/agents/me', undefined, { now: () => Date.now() - 6 * 60_000 });
      expectProblem(stale, 401, 'header.x-concord-timestamp');
      const future = await signed(a.identity, a.agentId, 'GET', '/agents/me', undefined, { now: () => Date.now() + 6 * 60_000 });
      expectProblem(future, 401, 'header.x-concord-timestamp');
      const skewed = await signed(a.identity, a.agentId, 'GET', '/agents/me', undefined, { now: () => Date.now() - 4 * 60_000 });
      expect(skewed.status).toBe(200);
      expect((await counts()).nonces).toBe(before.nonces + 1);
    });

    it('refuses a body, path or method changed after signing', async () => {
      const next = generateIdentity();
      const body = buildKeyRotationRequest({
        coordinatorSigningPublicKey: coordinatorKey,
        agentId: a.agentId,
        previousSigningPublicKey: bytesToBase64(a.identity.signing.publicKey),
        identity: next,
      }) as unknown as JsonValue;
      const before = await counts();
      const request = buildSignedRequest(running.baseUrl, {
        method: 'POST',
        path: '/agents/me/keys/rotate',
        body,
        identity: a.identity,
        agentId: a.agentId,
      });
      const tampered = new TextEncoder().encode(
        new TextDecoder().decode(request.body).replace('"signingPublicKey":"', '"signingPublicKey": "'),
      );
      expectProblem(await send({ ...request, body: tampered }), 401, 'header.x-concord-signature');
      const onOtherPath = buildSignedRequest(running.baseUrl, {
        method: 'GET',
        path: '/agents/me?x=1',
        identity: a.identity,
        agentId: a.agentId,
      });
      expectProblem(await send({ ...onOtherPath, url: `${running.baseUrl}/agents/me?x=2` }), 401, 'header.x-concord-signature');
      const asPost = buildSignedRequest(running.baseUrl, { method: 'GET', path: '/agents/me', identity: a.identity, agentId: a.agentId });
      expectProblem(await send({ ...asPost, method: 'POST', url: `${running.baseUrl}/agents/me/keys/rotate` }), 401);
      const asText = buildSignedRequest(running.baseUrl, {
        method: 'POST',
        path: '/agents/me/keys/rotate',
        rawBody: { bytes: 'x=1', contentType: 'text/plain' },
        identity: a.identity,
        agentId: a.agentId,
      });
      expectProblem(await send(asText), 415);
      expect(await counts()).toEqual(before);
      expect((await signed(a.identity, a.agentId, 'GET', '/agents/me')).json.agent.signingPublicKey).toBe(
        bytesToBase64(a.identity.signing.publicKey),
      );
    });

    it('refuses a request signed by agent B that claims to be agent A, and unsigned or unknown callers', async () => {
      const before = await counts();
      const impostor = buildSignedRequest(running.baseUrl, { method: 'GET', path: '/agents/me', identity: b.identity, agentId: a.agentId });
      expectProblem(await send(impostor), 401, 'header.x-concord-signature');
      expectProblem(await call('GET', '/agents/me'), 401, 'header.x-concord-agent');
      expectProblem(await call('GET', '/agents/me', admin), 401);
      expectProblem(await signed(a.identity, '6f1c1f9e-2a7e-4b2c-9d1e-0c8a7b6d5e4f', 'GET', '/agents/me'), 401, 'header.x-concord-agent');
      const noSignature = buildSignedRequest(running.baseUrl, {
        method: 'GET',
        path: '/agents/me',
        identity: a.identity,
        agentId: a.agentId,
      });
      const headers: Record<string, string> = { ...noSignature.headers };
      delete headers['x-concord-signature'];
      expectProblem(await reply(await fetch(noSignature.url, { headers })), 401, 'header.x-concord-signature');
      expect(await counts()).toEqual(before);
      // Agent routes are not admin routes, and admin routes are not agent routes.
      expectProblem(await signed(a.identity, a.agentId, 'GET', '/agents'), 401);
      expectProblem(await signed(a.identity, a.agentId, 'GET', '/budgets'), 401);
    });
  });

  describe('key rotation and revocation', () => {
    it('rotates keys: the old key fails at once, the new key works, and the history keeps both', async () => {
      const { identity, agentId } = await enrollAgent();
      const next = generateIdentity();
      const rotation = buildKeyRotationRequest({
        coordinatorSigningPublicKey: coordinatorKey,
        agentId,
        previousSigningPublicKey: bytesToBase64(identity.signing.publicKey),
        identity: next,
      });
      // A proof by the old key, or for another agent, proves nothing about the new key.
      const byOldKey = buildKeyRotationRequest({
        coordinatorSigningPublicKey: coordinatorKey,
        agentId,
        previousSigningPublicKey: bytesToBase64(identity.signing.publicKey),
        identity: { signing: identity.signing, box: next.box },
      });
      const before = await counts();
      expectProblem(
        await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...byOldKey, signingPublicKey: rotation.signingPublicKey }),
        400,
        'body.proof',
      );
      expectProblem(
        await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...rotation, proof: byOldKey.proof }),
        400,
        'body.proof',
      );
      expectProblem(
        await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...rotation, boxPublicKey: 'x' }),
        400,
        'body.boxPublicKey',
      );
      expect((await counts()).agentKeys).toBe(before.agentKeys);

      const rotated = await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...rotation });
      expect(rotated.status).toBe(200);
      expect(rotated.json).toMatchObject({ id: agentId, signingPublicKey: rotation.signingPublicKey, boxPublicKey: rotation.boxPublicKey });
      expect(rotated.json.rotatedAt).not.toBeNull();

      expectProblem(await signed(identity, agentId, 'GET', '/agents/me'), 401, 'header.x-concord-signature');
      const withNew = await signed(next, agentId, 'GET', '/agents/me');
      expect(withNew.status).toBe(200);
      expect(withNew.json.agent.boxPublicKey).toBe(rotation.boxPublicKey);

      const detail = await call('GET', `/agents/${agentId}`, admin);
      expect(detail.json.keys).toHaveLength(2);
      expect(detail.json.keys[0]).toMatchObject({ signingPublicKey: bytesToBase64(identity.signing.publicKey), retiredBecause: 'rotated' });
      expect(detail.json.keys[0].validUntil).not.toBeNull();
      expect(detail.json.keys[1]).toMatchObject({ signingPublicKey: rotation.signingPublicKey, validUntil: null, retiredBecause: null });

      // Nor can the old key sign a rotation, and no rotation can bring it back.
      const back = buildKeyRotationRequest({
        coordinatorSigningPublicKey: coordinatorKey,
        agentId,
        previousSigningPublicKey: rotation.signingPublicKey,
        identity,
      });
      expectProblem(await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...back }), 401);
      const beforeBack = await counts();
      expectProblem(await signed(next, agentId, 'POST', '/agents/me/keys/rotate', { ...back }), 409, 'body.signingPublicKey');
      // Only the nonce of the authenticated request is kept (a replay must stay refused whatever the outcome).
      expect(await counts()).toEqual({ ...beforeBack, nonces: beforeBack.nonces + 1 });
    });

    it('revokes an agent: its next signed request is refused, and the revocation is listed', async () => {
      const { identity, agentId } = await enrollAgent();
      expect((await signed(identity, agentId, 'GET', '/agents/me')).status).toBe(200);
      expectProblem(await call('POST', `/agents/${agentId}/revoke`, compliance, { reason: 'key leaked' }), 403);
      expectProblem(await call('POST', `/agents/${agentId}/revoke`, admin, {}), 400, 'body.reason');
      const revoked = await call('POST', `/agents/${agentId}/revoke`, admin, { reason: 'key leaked in incident 114' });
      expect(revoked.status).toBe(200);
      expect(revoked.json).toMatchObject({ id: agentId, status: 'revoked', revokedReason: 'key leaked in incident 114' });

      const before = await counts();
      const refused = await signed(identity, agentId, 'GET', '/agents/me');
      expectProblem(refused, 403);
      expect(refused.json.title).toBe('Agent revoked');
      const next = generateIdentity();
      const rotation = buildKeyRotationRequest({
        coordinatorSigningPublicKey: coordinatorKey,
        agentId,
        previousSigningPublicKey: bytesToBase64(identity.signing.publicKey),
        identity: next,
      });
      expectProblem(await signed(identity, agentId, 'POST', '/agents/me/keys/rotate', { ...rotation }), 403);
      expect(await counts()).toEqual(before);

      expectProblem(await call('POST', `/agents/${agentId}/revoke`, admin, { reason: 'again' }), 409);
      // The revoked key cannot be enrolled again, even with a fresh token.
      expectProblem(
        await call('POST', '/agents/enroll', undefined, enrollmentBody(await issueToken(), identity)),
        409,
        'body.signingPublicKey',
      );
      expectProblem(await call('POST', '/agents/00000000-0000-4000-8000-000000000000/revoke', admin, { reason: 'none such' }), 404);
      const listed = await call('GET', '/agents?status=revoked', compliance);
      expect((listed.json as { id: string }[]).map((x) => x.id)).toContain(agentId);
      const detail = await call('GET', `/agents/${agentId}`, compliance);
      expect(detail.json.keys[0]).toMatchObject({ retiredBecause: 'revoked' });
      const badFilter = await call('GET', '/agents?status=sleeping', compliance);
      expectProblem(badFilter, 400);
      expect(badFilter.json.errors[0].field).toMatch(/\.status$/);
    });
  });

  it('deletes expired request nonces', async () => {
    const { identity, agentId } = await enrollAgent();
    expect((await signed(identity, agentId, 'GET', '/agents/me')).status).toBe(200);
    await sql.query(
      `INSERT INTO agent_request_nonces (agent_id, nonce, expires_at) VALUES ($1, 'expired-nonce-000000', now() - interval '1 minute')`,
      [agentId],
    );
    const deleted = await running.app.get(AgentRequestAuthenticator).deleteExpiredNonces();
    expect(deleted).toBeGreaterThanOrEqual(1);
    const left = await sql.query(`SELECT nonce FROM agent_request_nonces WHERE agent_id = $1`, [agentId]);
    expect(left.rows).toHaveLength(1);
  });

  it('documents the routes, their bodies and examples in OpenAPI', async () => {
    const doc = (await call('GET', '/docs-json')).json;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/institutions/{institutionId}/enrollment-tokens',
        '/agents/enroll',
        '/agents/coordinator',
        '/agents/me',
        '/agents/me/keys/rotate',
        '/agents',
        '/agents/{id}',
        '/agents/{id}/revoke',
      ]),
    );
    for (const name of ['EnrollDto', 'RotateKeysDto', 'RevokeAgentDto', 'CreateEnrollmentTokenDto']) {
      const schema = doc.components.schemas[name];
      expect(schema, name).toBeDefined();
      for (const [property, spec] of Object.entries(schema.properties as Record<string, { example?: unknown }>)) {
        expect(spec.example, `${name}.${property}`).toBeDefined();
      }
    }
    expect(doc.paths['/agents/enroll'].post.responses['201'].content['application/json'].schema.$ref).toMatch(/EnrollmentResponseDto/);
    expect(doc.paths['/agents/me'].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(['x-concord-agent', 'x-concord-timestamp', 'x-concord-nonce', 'x-concord-signature']),
    );
  });

  // Last: it uses up this address's refused enrollments for a minute.
  it('limits the size of an enrollment and the attempts per address', async () => {
    const before = await counts();
    const huge = await call('POST', '/agents/enroll', undefined, { token: 'x'.repeat(20_000) });
    expectProblem(huge, 413);
    let limited: Reply | undefined;
    for (let i = 0; i <= ENROLLMENT_FAILURES_PER_WINDOW && !limited; i++) {
      const res = await call('POST', '/agents/enroll', undefined, { token: 'cet_x' });
      if (res.status === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expectProblem(limited!, 429);
    expect(await counts()).toEqual(before);
  });
});
