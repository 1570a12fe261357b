import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { TestAgent } from '../support/agent-client';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { toyExample, toyHistogram } from '../support/toy-task';

const TEACHERS = 10;
const QUERIES = 32;

const example = toyExample;
const histogram = (features: number[]): number[] => toyHistogram(features, TEACHERS);

export interface ReportsFixture {
  db: TestDatabase;
  running: RunningApp;
  admin: string;
  compliance: string;
  institutions: string[];
  agents: TestAgent[];
  jobId: string;
  close(): Promise<void>;
}

export async function api(
  running: RunningApp,
  key: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${running.baseUrl}${path}`, {
    method,
    headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/**
 * A coordinator with some ledger history: three institutions (each budget opened), one cap change,
 * and a small Confident-GNMax job answered by three test agents (10 declared teachers each) to
 * completion, so that every institution has charges and the job has a data-dependent figure.
 */
export async function startReportsFixture(): Promise<ReportsFixture> {
  const db = await createTestDatabase();
  const running = await startTestApp(db.url);
  const keys = running.app.get(ApiKeysService);
  const admin = (await keys.create('admin')).key;
  const compliance = (await keys.create('compliance')).key;
  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> =>
    api(running, admin, method, path, body);
  const coordinatorKey = ((await (await fetch(`${running.baseUrl}/agents/coordinator`)).json()) as { signingPublicKey: string })
    .signingPublicKey;
  const institutions: string[] = [];
  const agents: TestAgent[] = [];
  for (const name of ['Bank North', 'Bank South', 'Hospital East']) {
    const inst = await call('POST', '/institutions', { name, epsilonCap: 900, delta: 1e-5 });
    if (inst.status !== 201) throw new Error(`create institution: ${JSON.stringify(inst.json)}`);
    institutions.push(inst.json.id);
    const token = await call('POST', `/institutions/${inst.json.id}/enrollment-tokens`, {});
    const agent = new TestAgent(running.baseUrl);
    await agent.enroll(token.json.token, coordinatorKey, TEACHERS);
    agents.push(agent);
  }
  await call('PATCH', `/budgets/${institutions[0]}/cap`, { epsilonCap: 950, reason: 'board approved a larger budget for 2026' });
  const task = await call('POST', '/tasks', {
    name: 'toy',
    inputSpec: { kind: 'tabular', features: [{ name: 'is_cat' }, { name: 'is_dog' }, { name: 'is_bird' }, { name: 'contested' }] },
    classes: ['cat', 'dog', 'bird'],
  });
  const taskId = task.json.id as string;
  await call('POST', `/tasks/${taskId}/pool`, { split: 'public', examples: Array.from({ length: QUERIES }, (_, i) => example(i)) });
  const holdout = Array.from({ length: 30 }, (_, i) => example(i * 5));
  await call('POST', `/tasks/${taskId}/pool`, { split: 'holdout', examples: holdout, labels: holdout.map((e) => e.indexOf(1)) });
  const job = await call('POST', '/jobs', {
    taskId,
    mechanism: { kind: 'confident_gnmax', threshold: 20, sigma1: 2, sigma2: 2 },
    participants: institutions,
    queries: QUERIES,
    batchSize: 16,
    batchDeadlineMs: 30_000,
    minTeachers: 20,
    delta: 1e-5,
  });
  if (job.status !== 201) throw new Error(`create job: ${JSON.stringify(job.json)}`);
  const jobId = job.json.id as string;
  await call('POST', `/jobs/${jobId}/start`);
  let done = false;
  for (let round = 0; round < 200 && !done; round++) {
    const state = (await call('GET', `/jobs/${jobId}`)).json;
    if (['completed', 'failed', 'cancelled'].includes(state.status)) {
      done = true;
      break;
    }
    for (const agent of agents) {
      const batch = await agent.nextBatch();
      if (!batch || batch.jobId !== jobId) continue;
      await agent.answer(
        batch,
        TEACHERS,
        batch.queries.map((q) => histogram(q.features)),
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!done) throw new Error('the fixture job did not finish');
  // Wait for the data-dependent figure (published just after completion).
  for (let i = 0; i < 100; i++) {
    const state = (await call('GET', `/jobs/${jobId}`)).json;
    if (state.epsilonDataDependentSanitized !== null || state.dataDependentNote !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    db,
    running,
    admin,
    compliance,
    institutions,
    agents,
    jobId,
    async close(): Promise<void> {
      await running.close();
      await db.close();
    },
  };
}
