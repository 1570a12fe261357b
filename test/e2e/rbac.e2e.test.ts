import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { TestAgent } from '../support/agent-client';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ALL, MATRIX } from '../support/rbac-matrix';

describe('RBAC matrix: every route × {anonymous, admin, compliance, agent}', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let keys: Record<'admin' | 'compliance', string>;
  let agent: TestAgent;
  let routes: string[];

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    const apiKeys = running.app.get(ApiKeysService);
    keys = { admin: (await apiKeys.create('admin')).key, compliance: (await apiKeys.create('compliance')).key };
    const inst = (await (
      await fetch(`${running.baseUrl}/institutions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'rbac', epsilonCap: 1, delta: 1e-6 }),
      })
    ).json()) as { id: string };
    const token = (await (
      await fetch(`${running.baseUrl}/institutions/${inst.id}/enrollment-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { token: string };
    const coordinator = (await (await fetch(`${running.baseUrl}/agents/coordinator`)).json()) as { signingPublicKey: string };
    agent = new TestAgent(running.baseUrl);
    await agent.enroll(token.token, coordinator.signingPublicKey);
    const doc = (await (await fetch(`${running.baseUrl}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('declares every documented route, and only those', () => {
    expect([...routes].sort()).toEqual(Object.keys(MATRIX).sort());
  });

  it('refuses exactly the callers the table refuses', async () => {
    const failures: string[] = [];
    for (const route of Object.keys(MATRIX)) {
      const [method, template] = route.split(' ');
      const path = template.replace(/\{[^}]+\}/g, () => randomUUID());
      const body = method === 'GET' ? undefined : {};
      for (const caller of ALL) {
        let status: number;
        if (caller === 'agent') {
          status = (await agent.request(method, path, body)).status;
        } else {
          const res = await fetch(`${running.baseUrl}${path}`, {
            method,
            headers: {
              ...(caller === 'anonymous' ? {} : { authorization: `Bearer ${keys[caller]}` }),
              ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          await res.arrayBuffer();
          status = res.status;
        }
        const refused = status === 401 || status === 403;
        const allowed = MATRIX[route].includes(caller);
        if (allowed === refused || status >= 500) failures.push(`${route} as ${caller}: ${status}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
