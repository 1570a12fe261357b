import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** A database of its own on a Postgres server, for one run of a script. */
export interface ScratchDatabase {
  name: string;
  /** The server URL with this database as its path. */
  url: string;
  /** Drops the database, even with sessions still connected to it (a killed coordinator's, say). */
  drop(): Promise<void>;
}

/** Creates `<prefix>_<8 hex>` on the server that `serverUrl` points at (any database on it will do). */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString(),
    async drop() {
      const cleanup = new Client({ connectionString: serverUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
