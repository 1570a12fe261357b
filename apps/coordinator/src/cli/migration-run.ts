import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig, redactDatabaseUrl } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { DatabaseEndpoint } from '../database/database-endpoint';

/** `npm run migration:run`: applies pending migrations to the configured database and says which. */
async function main(): Promise<void> {
  const config = loadConfig();
  const endpoint = await DatabaseEndpoint.open(config);
  const dataSource = new DataSource(dataSourceOptions(endpoint.url, 2));
  try {
    await dataSource.initialize();
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    const where = config.databaseUrl ? redactDatabaseUrl(config.databaseUrl) : `embedded PGlite (${config.embeddedStorage})`;
    process.stdout.write(
      applied.length === 0
        ? `${where}: schema up to date\n`
        : `${where}: applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}\n`,
    );
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.close();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`concord migration:run: ${message}\n`);
  process.exit(1);
});
