import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../../../migrations';
import { ENTITIES } from './entities';

/**
 * The one description of how the coordinator reaches Postgres, shared by the Nest module, the
 * command-line tools and the tests. `synchronize` is never enabled: the schema comes only from
 * reviewed migrations.
 */
export function dataSourceOptions(url: string, poolSize: number, migrationsRun = false): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsRun,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 10_000 },
  };
}
