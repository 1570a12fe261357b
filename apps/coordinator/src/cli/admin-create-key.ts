import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import { ApiKeysService } from '../auth/api-keys.service';
import { ConfigError, loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { DatabaseEndpoint } from '../database/database-endpoint';

/**
 * `npm run --silent admin:create-key -- --role admin|compliance [--label text]`: creates an API key
 * in the configured database (applying pending migrations first) and prints it alone on the last
 * line. The key is shown once and never stored: keep it in a secret manager.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const role = value('--role');
  if (role !== 'admin' && role !== 'compliance') throw new Error('--role must be admin or compliance');
  const config = loadConfig();
  const endpoint = await DatabaseEndpoint.open(config);
  const dataSource = new DataSource(dataSourceOptions(endpoint.url, 2));
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    const created = await new ApiKeysService(new ApiKeysRepository(dataSource)).create(role, value('--label') ?? '');
    process.stderr.write(`created ${created.role} key ${created.id}; it is shown once, below\n`);
    process.stdout.write(`${created.key}\n`);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.close();
  }
}

main().catch((err: unknown) => {
  const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`concord admin:create-key: ${message}\n`);
  process.exit(1);
});
