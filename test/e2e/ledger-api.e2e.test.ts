import { spawnSync } from 'node:child_process';
import { readSigningKeyFile, bytesToBase64 } from '@concord/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { assertBuilt, COORDINATOR_MAIN } from '../support/process';

const CREATE_KEY_CLI = COORDINATOR_MAIN.replace(/main\.js$/, 'cli/admin-create-key.js');

describe('budgets and ledger over HTTP', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let admin: string;
  let compliance: string;

  function createKey(role: string): string {
    const run = spawnSync(process.execPath, [CREATE_KEY_CLI, '--role', role], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    return lines[lines.length - 1];
  }

  async function call(method: string, path: string, key?: string, body?: unknown): Promise<{ status: number; type: string; json: any }> {
    const res = await fetch(`${running.baseUrl}${path}`, {
      method,
      headers: {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', json: text ? JSON.parse(text) : null };
  }

  async function institutionCount(): Promise<number> {
    const res = await call('GET', '/institutions', admin);
    return (res.json as unknown[]).length;
  }

  beforeAll(async () => {
    assertBuilt();
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    admin = createKey('admin');
    compliance = createKey('compliance');
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('prints a fresh API key alone on the last line of admin:create-key', () => {
    expect(admin).toMatch(/^ck_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    expect(compliance).not.toBe(admin);
  });

  it('refuses anonymous callers, wrong keys and wrong roles with problem+json', async () => {
    const anonymous = await call('GET', '/budgets');
    expect(anonymous.status).toBe(401);
    expect(anonymous.type).toMatch(/problem\+json/);
    expect((await call('GET', '/budgets', `${admin.slice(0, -4)}AAAA`)).status).toBe(401);
    expect((await call('POST', '/institutions', compliance, { name: 'x', epsilonCap: 1, delta: 1e-6 })).status).toBe(403);
    expect(
      (await call('PATCH', '/budgets/00000000-0000-4000-8000-000000000000/cap', compliance, { epsilonCap: 1, reason: 'why not' })).status,
    ).toBe(403);
  });

  it('refuses bad input naming the field, and writes nothing', async () => {
    const before = await institutionCount();
    const bad = await call('POST', '/institutions', admin, { name: 'Bank A', epsilonCap: 'lots', delta: 2, extra: true });
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/problem\+json/);
    const fields = (bad.json.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.epsilonCap', 'body.delta', 'body.extra']));
    expect((await call('POST', '/institutions', admin, '{"name": ')).status).toBe(400);
    expect(await institutionCount()).toBe(before);
    const badId = await call('GET', '/budgets/not-a-uuid', admin);
    expect(badId.status).toBe(400);
    expect(badId.json.errors).toEqual([{ field: 'path.institutionId', message: 'must be a UUID' }]);
  });

  it('creates an institution with its budget, changes the cap with a reason, and pages the ledger', async () => {
    const created = await call('POST', '/institutions', admin, {
      name: 'Hospital North',
      epsilonCap: 2,
      delta: 1e-6,
      reason: 'consortium agreement',
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await call('POST', '/institutions', admin, { name: 'Hospital North', epsilonCap: 2, delta: 1e-6 })).status).toBe(409);

    const budget = await call('GET', `/budgets/${id}`, compliance);
    expect(budget.status).toBe(200);
    expect(budget.json).toMatchObject({
      institutionId: id,
      institutionName: 'Hospital North',
      epsilonCap: 2,
      delta: 1e-6,
      epsilonSpent: 0,
      epsilonRemaining: 2,
      basis: 'data_independent',
      conversion: 'analytic_gaussian',
      entries: 1,
    });
    expect((await call('GET', '/budgets', compliance)).json.map((b: { institutionId: string }) => b.institutionId)).toContain(id);

    const noReason = await call('PATCH', `/budgets/${id}/cap`, admin, { epsilonCap: 3 });
    expect(noReason.status).toBe(400);
    expect(noReason.json.errors.map((e: { field: string }) => e.field)).toContain('body.reason');
    const raised = await call('PATCH', `/budgets/${id}/cap`, admin, { epsilonCap: 3, reason: 'board approval' });
    expect(raised.status).toBe(200);
    expect(raised.json.epsilonCap).toBe(3);

    const page1 = await call('GET', `/budgets/${id}/entries?limit=1`, compliance);
    expect(page1.json.total).toBe(2);
    expect(page1.json.entries.map((e: { kind: string }) => e.kind)).toEqual(['budget_opened']);
    expect(page1.json.nextAfterSeq).toBe(1);
    const page2 = await call('GET', `/budgets/${id}/entries?limit=1&afterSeq=1`, compliance);
    expect(page2.json.entries[0]).toMatchObject({
      kind: 'budget_changed',
      seq: 2,
      epsilonCap: 3,
      details: { reason: 'board approval', epsilonCapBefore: 2, epsilonCapAfter: 3 },
    });
    expect((await call('GET', `/budgets/${id}/entries?limit=0`, compliance)).status).toBe(400);
  });

  it('publishes the ledger key and verifies the ledger on demand', async () => {
    const key = await call('GET', '/ledger/public-key');
    expect(key.status).toBe(200);
    const onDisk = await readSigningKeyFile(running.config.ledgerKeyFile);
    expect(key.json).toMatchObject({ algorithm: 'Ed25519', publicKey: bytesToBase64(onDisk.publicKey) });
    const verification = await call('GET', '/ledger/verification', compliance);
    expect(verification.json).toMatchObject({ verified: true, problems: [] });
    expect(verification.json.entries).toBeGreaterThan(0);
  });

  it('documents the routes in OpenAPI', async () => {
    const doc = await call('GET', '/docs-json');
    expect(Object.keys(doc.json.paths)).toEqual(
      expect.arrayContaining([
        '/institutions',
        '/budgets',
        '/budgets/{institutionId}',
        '/budgets/{institutionId}/cap',
        '/budgets/{institutionId}/entries',
        '/ledger/public-key',
        '/ledger/verification',
      ]),
    );
  });
});
