import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { bearerApi } from '../../scripts/lib/local-server';
import { TestAgent } from '../support/agent-client';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

/** A job is a state machine in Postgres: a coordinator restarted mid-job carries on where it was. */
describe('a job across a coordinator restart', () => {
  let db: TestDatabase;
  let running: RunningApp | undefined;
  let admin: string;
  let ledgerKeyFile: string;
  let boxKeyFile: string;

  const call = (method: string, path: string, body?: unknown): Promise<any> => bearerApi(running!.baseUrl, admin)(method, path, body);

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    ledgerKeyFile = running.config.ledgerKeyFile;
    boxKeyFile = running.config.boxKeyFile;
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('pauses, survives the restart, resumes and completes with one charge per batch', async () => {
    const coordinatorKey = (await call('GET', '/agents/coordinator')).signingPublicKey as string;
    const agents: TestAgent[] = [];
    const institutions: string[] = [];
    for (const name of ['A', 'B']) {
      const inst = await call('POST', '/institutions', { name, epsilonCap: 500, delta: 1e-5 });
      institutions.push(inst.id);
      const agent = new TestAgent(running!.baseUrl);
      await agent.enroll((await call('POST', `/institutions/${inst.id}/enrollment-tokens`, {})).token, coordinatorKey);
      agents.push(agent);
    }
    const task = await call('POST', '/tasks', {
      name: 'restart',
      inputSpec: { kind: 'tabular', features: [{ name: 'x' }] },
      classes: ['a', 'b'],
    });
    await call('POST', `/tasks/${task.id}/pool`, { split: 'public', examples: Array.from({ length: 30 }, (_, i) => [i % 2]) });
    const job = await call('POST', '/jobs', {
      taskId: task.id,
      mechanism: { kind: 'gnmax', sigma: 1 },
      participants: institutions,
      queries: 30,
      batchSize: 10,
      batchDeadlineMs: 60_000,
      minTeachers: 10,
      delta: 1e-5,
    });
    await call('POST', `/jobs/${job.id}/start`);

    const answerOnce = async (): Promise<void> => {
      for (const agent of agents) {
        const batch = await agent.nextBatch();
        if (batch)
          expect(
            (
              await agent.answer(
                batch,
                5,
                batch.queries.map((q) => (q.features[0] === 1 ? [0, 5] : [5, 0])),
              )
            ).status,
          ).toBe(202);
      }
    };
    const waitReleased = async (n: number): Promise<any> => {
      for (let i = 0; i < 200; i++) {
        const state = await call('GET', `/jobs/${job.id}`);
        if (state.released >= n) return state;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`fewer than ${n} released`);
    };

    await answerOnce();
    await waitReleased(10);
    // Both answer batch 2, the admin pauses, and the coordinator goes down before aggregating.
    await call('POST', `/jobs/${job.id}/pause`);
    await answerOnce().catch(() => undefined);
    await running!.close();

    running = await startTestApp(db.url, { ledgerKeyFile, boxKeyFile });
    for (const agent of agents) agent.baseUrl = running.baseUrl;
    const paused = await call('GET', `/jobs/${job.id}`);
    expect(paused).toMatchObject({ status: 'paused', released: 10, batched: 20 });
    await call('POST', `/jobs/${job.id}/start`);
    for (let round = 0; round < 20; round++) {
      const state = await call('GET', `/jobs/${job.id}`);
      if (state.status === 'completed') break;
      await answerOnce();
      await new Promise((r) => setTimeout(r, 150));
    }
    const done = await call('GET', `/jobs/${job.id}`);
    expect(done).toMatchObject({ status: 'completed', released: 30 });
    expect(done.participants.map((p: { charges: number }) => p.charges)).toEqual([3, 3]);
    const labels = (await call('GET', `/jobs/${job.id}/labels`)) as { queryIndex: number; label: number }[];
    expect(labels.map((l) => l.label)).toEqual(labels.map((l) => l.queryIndex % 2));
    expect((await call('GET', '/ledger/verification')).verified).toBe(true);
  });
});
