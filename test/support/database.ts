import { startEmbeddedPostgres } from '../../apps/coordinator/src/database/embedded-postgres';
import { createScratchDatabase } from '../../scripts/lib/scratch-database';

/** A database of the test's own: a fresh database on `DATABASE_URL`'s server, or an in-memory PGlite. */
export interface TestDatabase {
  url: string;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export function testDatabaseKind(): 'postgres' | 'pglite' {
  return process.env.DATABASE_URL ? 'postgres' : 'pglite';
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const embedded = await startEmbeddedPostgres({ maxConnections: 40 });
    return { url: embedded.url, kind: 'pglite', close: () => embedded.stop() };
  }
  const db = await createScratchDatabase(serverUrl, 'concord_t');
  return { url: db.url, kind: 'postgres', close: () => db.drop() };
}
