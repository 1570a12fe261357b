import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AppConfig } from '../config/config';
import { DataDirLock } from './data-dir-lock';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

/** Where the coordinator's Postgres is: the configured server, or an embedded PGlite it started. */
export class DatabaseEndpoint {
  private constructor(
    readonly url: string,
    readonly kind: 'postgres' | 'embedded',
    private readonly embedded: EmbeddedPostgres | undefined,
    private readonly lock?: DataDirLock,
  ) {}

  static async open(config: AppConfig): Promise<DatabaseEndpoint> {
    if (config.databaseUrl) return new DatabaseEndpoint(config.databaseUrl, 'postgres', undefined);
    const dataDir = config.embeddedStorage === 'file' ? resolve(config.dataDir, 'pg') : undefined;
    let lock: DataDirLock | undefined;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      lock = DataDirLock.acquire(resolve(config.dataDir, 'pg.lock'));
    }
    try {
      // Room for the pool plus the health check and a migration runner.
      const embedded = await startEmbeddedPostgres({ dataDir, maxConnections: config.dbPoolSize + 4 });
      return new DatabaseEndpoint(embedded.url, 'embedded', embedded, lock);
    } catch (err) {
      lock?.release();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.embedded?.stop();
    this.lock?.release();
  }
}
