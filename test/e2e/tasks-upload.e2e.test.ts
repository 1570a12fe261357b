import { gzipSync } from 'node:zlib';
import { encodeIdx } from '@concord/ml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { apiCall, startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('public pool and holdout uploads (JSON, IDX, CSV)', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let admin: string;

  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> =>
    apiCall(running.baseUrl, admin, method, path, body);

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('accepts gzipped IDX images, and IDX labels for a holdout; refuses a wrong shape or a truncated file, storing nothing', async () => {
    const task = (
      await call('POST', '/tasks', { name: 'tiny-images', inputSpec: { kind: 'image', shape: [2, 2, 1], scale: 255 }, classes: ['a', 'b'] })
    ).json;
    const pixels = Uint8Array.from({ length: 5 * 4 }, (_, i) => (i * 13) % 256);
    const images = Buffer.from(gzipSync(encodeIdx({ dtype: 'uint8', shape: [5, 2, 2], data: pixels }))).toString('base64');
    const ok = await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'idx', images });
    expect(ok.status).toBe(201);
    expect(ok.json).toEqual({ split: 'public', added: 5, total: 5 });
    const labelsIdx = Buffer.from(encodeIdx({ dtype: 'uint8', shape: [5], data: Uint8Array.from([0, 1, 1, 0, 1]) })).toString('base64');
    expect((await call('POST', `/tasks/${task.id}/pool`, { split: 'holdout', format: 'idx', images, labelsIdx })).json).toMatchObject({
      added: 5,
    });

    const wrongShape = Buffer.from(encodeIdx({ dtype: 'uint8', shape: [2, 3, 3], data: new Uint8Array(18) })).toString('base64');
    const bad = await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'idx', images: wrongShape });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0].field).toBe('body.images');
    const truncated = Buffer.from(encodeIdx({ dtype: 'uint8', shape: [5, 2, 2], data: pixels }).subarray(0, 20)).toString('base64');
    const cut = await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'idx', images: truncated });
    expect(cut.status).toBe(400);
    expect(cut.json.errors[0]).toMatchObject({ field: 'body.images' });
    expect((await call('GET', `/tasks/${task.id}`)).json).toMatchObject({ publicExamples: 5, holdoutExamples: 5 });
  });

  it('reads CSV by header name for a tabular task, and names the line of a bad cell', async () => {
    const task = (
      await call('POST', '/tasks', {
        name: 'loans',
        inputSpec: { kind: 'tabular', features: [{ name: 'age' }, { name: 'income' }] },
        classes: ['no', 'yes'],
      })
    ).json;
    const csv = 'id,income,age,label\n1,52000,41,1\n2,31000,29,0\n';
    expect((await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'csv', csv })).json).toEqual({
      split: 'public',
      added: 2,
      total: 2,
    });
    expect((await call('POST', `/tasks/${task.id}/pool`, { split: 'holdout', format: 'csv', csv })).json).toMatchObject({ added: 2 });
    const bad = await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'csv', csv: 'age,income\n40,1000\n41,lots\n' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors[0]).toEqual({ field: 'body.csv', message: "line 3: column 'income' is not a number" });
    const short = await call('POST', `/tasks/${task.id}/pool`, { split: 'public', format: 'csv', csv: 'age,income\n40\n' });
    expect(short.json.errors[0].message).toMatch(/^line 2: 1 cells, the header has 2/);
    expect((await call('GET', `/tasks/${task.id}`)).json).toMatchObject({ publicExamples: 2, holdoutExamples: 2 });
  });
});
