import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { apiCall, startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe("a job's student settings", () => {
  let db: TestDatabase;
  let running: RunningApp;
  let admin: string;
  let imageTask: string;
  let tabularTask: string;
  let institution: string;

  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> =>
    apiCall(running.baseUrl, admin, method, path, body);

  const job = (taskId: string, student?: unknown, mechanism: unknown = { kind: 'gnmax', sigma: 40 }): Record<string, unknown> => ({
    taskId,
    mechanism,
    participants: [institution],
    queries: 4,
    batchSize: 2,
    batchDeadlineMs: 60_000,
    minTeachers: 1,
    delta: 1e-5,
    ...(student === undefined ? {} : { student }),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
    imageTask = (
      await call('POST', '/tasks', { name: 'images', inputSpec: { kind: 'image', shape: [28, 28, 1], scale: 255 }, classes: ['a', 'b'] })
    ).json.id;
    await call('POST', `/tasks/${imageTask}/pool`, { split: 'public', examples: Array.from({ length: 4 }, (_, i) => Array(784).fill(i)) });
    tabularTask = (
      await call('POST', '/tasks', {
        name: 'rows',
        inputSpec: { kind: 'tabular', features: [{ name: 'x' }, { name: 'y' }, { name: 'z' }] },
        classes: ['a', 'b'],
      })
    ).json.id;
    await call('POST', `/tasks/${tabularTask}/pool`, {
      split: 'public',
      examples: [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
        [0, 1, 0],
      ],
    });
    institution = (await call('POST', '/institutions', { name: 'North', epsilonCap: 50, delta: 1e-5, reason: 'test' })).json.id;
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('resolves and stores the settings: defaults when absent, given values otherwise', async () => {
    const plain = await call('POST', '/jobs', job(imageTask));
    expect(plain.status).toBe(201);
    expect(plain.json.student).toEqual({
      features: 'input',
      pcaComponents: null,
      hidden: [256],
      epochs: 40,
      semiSupervised: true,
      temperature: null,
    });
    const edges = await call('POST', '/jobs', job(imageTask, { features: 'edges', semiSupervised: false, hidden: [128, 64] }));
    expect(edges.status).toBe(201);
    expect(edges.json.student).toEqual({
      features: 'edges',
      pcaComponents: 100,
      hidden: [128, 64],
      epochs: 40,
      semiSupervised: false,
      temperature: null,
    });
    expect((await call('GET', `/jobs/${edges.json.id}`)).json.student).toEqual(edges.json.student);
    const pca = await call('POST', '/jobs', job(tabularTask, { features: 'pca' }));
    expect(pca.json.student).toMatchObject({ features: 'pca', pcaComponents: 3 });
  });

  it('gives a soft-label job a distillation temperature: σ/4 by default, or the one asked for', async () => {
    const soft = { kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1 };
    const byDefault = await call('POST', '/jobs', job(imageTask, undefined, soft));
    expect(byDefault.status).toBe(201);
    expect(byDefault.json.student.temperature).toBe(30);
    const given = await call('POST', '/jobs', job(imageTask, { temperature: 12.5 }, soft));
    expect(given.status).toBe(201);
    expect(given.json.student.temperature).toBe(12.5);
    expect((await call('GET', `/jobs/${given.json.id}`)).json.student.temperature).toBe(12.5);
  });

  it('refuses impossible settings naming the field, and creates no job', async () => {
    const before = (await call('GET', '/jobs')).json.length;
    const cases: [unknown, string, string][] = [
      [{ features: 'edges' }, 'body.student.features', tabularTask],
      [{ features: 'pca', pcaComponents: 4 }, 'body.student.pcaComponents', tabularTask],
      [{ pcaComponents: 10 }, 'body.student.pcaComponents', imageTask],
      [{ features: 'wavelets' }, 'body.student.features', imageTask],
      [{ epochs: 0 }, 'body.student.epochs', imageTask],
      [{ hidden: [0] }, 'body.student.hidden', imageTask],
      // Hard labels have no temperature; a soft-label job's must be positive.
      [{ temperature: 10 }, 'body.student.temperature', imageTask],
      [{ temperature: 0, soft: true }, 'body.student.temperature', imageTask],
      [{ temperature: 'hot', soft: true }, 'body.student.temperature', imageTask],
    ];
    for (const [settings, field, taskId] of cases) {
      const { soft, ...student } = settings as { soft?: boolean };
      const mechanism = soft ? { kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1 } : undefined;
      const res = await call('POST', '/jobs', job(taskId, student, mechanism));
      expect(res.status, JSON.stringify(student)).toBe(400);
      expect(res.json.errors.map((e: { field: string }) => e.field).join(' ')).toContain(field);
    }
    expect((await call('GET', '/jobs')).json.length).toBe(before);
  });
});
