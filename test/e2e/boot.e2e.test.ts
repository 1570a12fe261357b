import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { assertBuilt, freePort, spawnCoordinator, waitForHealth } from '../support/process';

describe('the built coordinator (node dist/…/main.js)', () => {
  let dataDir: string;
  let db: TestDatabase | undefined;

  beforeAll(() => {
    assertBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'concord-boot-'));
  });

  afterAll(async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await db?.close();
  });

  async function bootAndCheck(env: Record<string, string>): Promise<void> {
    const port = await freePort();
    const proc = spawnCoordinator({ ...env, PORT: String(port), CONCORD_DATA_DIR: dataDir });
    try {
      const ms = await waitForHealth(`http://127.0.0.1:${port}`, 30_000);
      expect(ms).toBeLessThan(30_000);
      const doc = (await (await fetch(`http://127.0.0.1:${port}/docs-json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(doc.paths)).toContain('/health');
    } finally {
      proc.child.kill('SIGTERM');
    }
    expect(await proc.exited).toBe(0);
  }

  it('starts on the embedded database (files under CONCORD_DATA_DIR/pg) and stops cleanly on SIGTERM', async () => {
    await bootAndCheck({});
    // A second start reuses the same data directory: migrations already applied, data kept.
    await bootAndCheck({});
  });

  it('starts against DATABASE_URL when it is set', async () => {
    db = await createTestDatabase();
    await bootAndCheck({ DATABASE_URL: db.url });
  });

  it('refuses PORT=abc, naming the variable', async () => {
    const proc = spawnCoordinator({ PORT: 'abc' });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/PORT: must be an integer/);
  });

  it('refuses a malformed DATABASE_URL, naming the variable and not echoing it', async () => {
    const proc = spawnCoordinator({ DATABASE_URL: 'mysql://root:s3cret@localhost/db' });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/DATABASE_URL/);
    expect(proc.output()).not.toContain('s3cret');
  });

  it('names DATABASE_URL (password redacted) when the server cannot be reached', async () => {
    const port = await freePort();
    const proc = spawnCoordinator({ DATABASE_URL: `postgres://u:s3cret@127.0.0.1:${port}/x`, PORT: String(await freePort()) });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/DATABASE_URL \(postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
    expect(proc.output()).not.toContain('s3cret');
  });
});
