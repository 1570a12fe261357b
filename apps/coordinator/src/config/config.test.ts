import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactDatabaseUrl } from './config';

function errorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env, '/srv/concord');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    const config = loadConfig({}, '/srv/concord');
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.embeddedStorage).toBe('file');
    expect(config.dataDir).toBe('/srv/concord/data');
    expect(config.ledgerKeyFile).toBe('/srv/concord/data/ledger-key.json');
    expect(config.boxKeyFile).toBe('/srv/concord/data/box-key.json');
    expect(config.migrationsRun).toBe(true);
  });

  it('names PORT when it is not a number or out of range', () => {
    expect(errorOf({ PORT: 'abc' }).variable).toBe('PORT');
    expect(errorOf({ PORT: '70000' }).message).toMatch(/^PORT: must be an integer between 1 and 65535/);
    expect(errorOf({ PORT: '-1' }).variable).toBe('PORT');
  });

  it('names DATABASE_URL when it is malformed or not Postgres, without echoing it', () => {
    const malformed = errorOf({ DATABASE_URL: 'not a url with secret-password' });
    expect(malformed.variable).toBe('DATABASE_URL');
    expect(malformed.message).not.toContain('secret-password');
    expect(errorOf({ DATABASE_URL: 'mysql://u:p@localhost/db' }).message).toMatch(/postgres:\/\//);
  });

  it('accepts a postgres URL and the other switches', () => {
    const config = loadConfig(
      { DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/test', CONCORD_DB: 'memory', CONCORD_MIGRATIONS_RUN: 'false', LOG_LEVEL: 'warn' },
      '/x',
    );
    expect(config.databaseUrl).toBe('postgresql://u:p@127.0.0.1:5432/test');
    expect(config.embeddedStorage).toBe('memory');
    expect(config.migrationsRun).toBe(false);
    expect(config.logLevel).toBe('warn');
  });

  it('names every other variable it refuses', () => {
    expect(errorOf({ CONCORD_DB: 'disk' }).variable).toBe('CONCORD_DB');
    expect(errorOf({ CONCORD_DB_POOL_SIZE: '0' }).variable).toBe('CONCORD_DB_POOL_SIZE');
    expect(errorOf({ CONCORD_MIGRATIONS_RUN: 'maybe' }).variable).toBe('CONCORD_MIGRATIONS_RUN');
    expect(errorOf({ LOG_LEVEL: 'loud' }).variable).toBe('LOG_LEVEL');
    expect(errorOf({ CONCORD_RATE_LIMIT_RPS: 'fast' }).variable).toBe('CONCORD_RATE_LIMIT_RPS');
  });

  it('places the box key file where CONCORD_BOX_KEY_FILE says, relative to the working directory', () => {
    expect(loadConfig({ CONCORD_BOX_KEY_FILE: 'keys/box.json' }, '/srv/concord').boxKeyFile).toBe('/srv/concord/keys/box.json');
    expect(loadConfig({ CONCORD_BOX_KEY_FILE: '/etc/concord/box.json' }, '/x').boxKeyFile).toBe('/etc/concord/box.json');
    expect(loadConfig({ CONCORD_DATA_DIR: '/var/lib/concord' }, '/x').boxKeyFile).toBe('/var/lib/concord/box-key.json');
  });

  it('redacts the password of a database URL', () => {
    expect(redactDatabaseUrl('postgres://me:hunter2@db:5432/x')).toBe('postgres://me:***@db:5432/x');
  });
});

describe('README.md', () => {
  it('documents every configuration variable in its table', async () => {
    const { readFileSync } = await import('node:fs');
    const { CONFIG_VARIABLES } = await import('./config');
    const readme = readFileSync(new URL('../../../../README.md', `file://${__filename}`), 'utf8');
    for (const v of CONFIG_VARIABLES) expect(readme).toContain(`| \`${v.name}\` |`);
  });
});
