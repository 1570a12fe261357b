import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { TestAgent } from '../support/agent-client';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { AUDITED_TABLES, tableChecksum } from '../support/table-checksum';

/** Valid bodies; each fuzzed request breaks one field of one of them (or the JSON itself). */
function validBodies(ids: { task: string; institution: string }): Record<string, Record<string, unknown>> {
  return {
    'POST /institutions': { name: 'Fuzz Bank', epsilonCap: 2, delta: 1e-6 },
    'PATCH /budgets/{institutionId}/cap': { epsilonCap: 3, reason: 'fuzzing the cap' },
    'POST /tasks': { name: 'fuzz-task', inputSpec: { kind: 'tabular', features: [{ name: 'x' }] }, classes: ['a', 'b'] },
    'POST /tasks/{id}/pool': { split: 'public', examples: [[1], [2]] },
    'POST /jobs': {
      taskId: ids.task,
      mechanism: { kind: 'gnmax', sigma: 40 },
      participants: [ids.institution],
      queries: 2,
      batchSize: 1,
      batchDeadlineMs: 1000,
      minTeachers: 1,
      delta: 1e-5,
    },
    'POST /privacy/calibrate': { mechanism: 'gnmax', queries: 100, epsilon: 2, delta: 1e-5 },
    'POST /institutions/{institutionId}/enrollment-tokens': { ttlSeconds: 3600 },
  };
}

const hostileValue = fc.oneof(
  fc.constant(null),
  fc.constant(Number.NaN),
  fc.constant('NaN'),
  fc.constant(1e308),
  fc.constant(-1e308),
  fc.constant(-1),
  fc.constant(0),
  fc.constant(''),
  fc.constant([]),
  fc.constant({}),
  fc.string({ maxLength: 50 }),
  fc.double(),
  fc.array(fc.anything(), { maxLength: 5 }),
  fc.object({ maxDepth: 2 }),
  fc.constant('x'.repeat(10_000)),
);

describe('hostile input: no 5xx, no row changed', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let sql: Client;
  let admin: string;
  let agent: TestAgent;
  let ids: { task: string; institution: string };

  const checksum = (): Promise<string> => tableChecksum(sql, AUDITED_TABLES);

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
    const post = async (path: string, body: unknown): Promise<any> =>
      (
        await fetch(`${running.baseUrl}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json();
    const institution = (await post('/institutions', { name: 'Existing', epsilonCap: 5, delta: 1e-6 })).id as string;
    const task = (
      await post('/tasks', { name: 'existing', inputSpec: { kind: 'tabular', features: [{ name: 'x' }] }, classes: ['a', 'b'] })
    ).id as string;
    ids = { task, institution };
    const token = (await post(`/institutions/${institution}/enrollment-tokens`, {})).token as string;
    agent = new TestAgent(running.baseUrl);
    await agent.enroll(
      token,
      ((await (await fetch(`${running.baseUrl}/agents/coordinator`)).json()) as { signingPublicKey: string }).signingPublicKey,
    );
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
    await db?.close();
  });

  it('answers broken bodies, malformed JSON and forged agent requests with 4xx problem+json and writes nothing', async () => {
    const bodies = validBodies(ids);
    const changedByBadInput: string[] = [];
    const statuses: number[] = [];
    const fiveHundreds: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(bodies)),
        fc.nat(),
        hostileValue,
        fc.constantFrom('field', 'json', 'type', 'extra'),
        async (route, pick, value, mode) => {
          const [method, template] = route.split(' ');
          const path = template
            .replace('{institutionId}', ids.institution)
            .replace('{id}', route.startsWith('POST /tasks') ? ids.task : randomUUID());
          const body = structuredClone(bodies[route]);
          const fields = Object.keys(body);
          let text: string;
          let contentType = 'application/json';
          if (mode === 'json') text = JSON.stringify(body).slice(0, 1 + (pick % 20));
          else if (mode === 'type') {
            text = JSON.stringify(body);
            contentType = 'text/plain';
          } else {
            // Replace (or add) one field with a hostile value.
            const field = mode === 'extra' ? `unexpected_${pick % 3}` : fields[pick % fields.length];
            body[field] = value;
            text = JSON.stringify(body);
          }
          const before = await checksum();
          const res = await fetch(`${running.baseUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${admin}`, 'content-type': contentType },
            body: text,
          });
          const reply = await res.text();
          statuses.push(res.status);
          if (res.status >= 500) fiveHundreds.push(`${route} ${mode} ${text.slice(0, 200)} → ${res.status} ${reply.slice(0, 200)}`);
          if (res.status >= 400) {
            expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
            if ((await checksum()) !== before) changedByBadInput.push(`${route} ${mode} ${text.slice(0, 200)} → ${res.status}`);
          }
        },
      ),
      { numRuns: 400 },
    );
    // Forged and re-used agent signatures, stale timestamps.
    for (let i = 0; i < 20; i++) {
      const forged = await fetch(`${running.baseUrl}/agent/batches/next`, {
        headers: {
          'x-concord-agent': agent.agentId,
          'x-concord-timestamp': String(Date.now()),
          'x-concord-nonce': `nonce-${i}-abcdefghijkl`,
          'x-concord-signature': 'A'.repeat(86),
        },
      });
      statuses.push(forged.status);
      expect(forged.status).toBe(401);
    }
    expect(fiveHundreds).toEqual([]);
    // A hostile value can happen to be valid for its field (a cap of 0, say) and succeed; what
    // must never happen is a refused request that changed a row.
    expect(changedByBadInput).toEqual([]);
    expect(statuses.filter((s) => s >= 400).length).toBeGreaterThan(statuses.length * 0.9);
  });
});
