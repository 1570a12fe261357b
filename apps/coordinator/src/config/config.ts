import { isAbsolute, resolve } from 'node:path';

/**
 * The coordinator's configuration, read once from the environment at boot. Every variable is
 * validated here so that a typo stops the process with a message naming the variable, instead of
 * surfacing later as an obscure runtime failure.
 */
export interface AppConfig {
  port: number;
  host: string;
  /** A real Postgres; when absent the embedded PGlite is used. */
  databaseUrl: string | undefined;
  /** Embedded database storage: files under `dataDir/pg`, or memory only. */
  embeddedStorage: 'file' | 'memory';
  dataDir: string;
  dbPoolSize: number;
  migrationsRun: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Ed25519 key that signs ledger entries and exports; created with mode 0600 if absent. */
  ledgerKeyFile: string;
  /** X25519 key pair to which agents seal their answers; created with mode 0600 if absent. */
  boxKeyFile: string;
  /** Requests per second per client address (bursts of 4×); 0 turns the limiter off. */
  rateLimitRps: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigVariable {
  name: string;
  default: string;
  description: string;
}

/** The documented variables; a test checks that README.md's configuration table lists every one. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'PORT', default: '3000', description: 'HTTP port of the coordinator (1–65535).' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on.' },
  {
    name: 'DATABASE_URL',
    default: '(unset: embedded PGlite)',
    description: 'postgres:// URL of a real Postgres (15 or later). Unset: embedded PGlite on loopback.',
  },
  { name: 'CONCORD_DB', default: 'file', description: 'Embedded database storage: `file` (under CONCORD_DATA_DIR/pg) or `memory`.' },
  { name: 'CONCORD_DATA_DIR', default: './data', description: 'Directory for the embedded database and the ledger key.' },
  { name: 'CONCORD_DB_POOL_SIZE', default: '10', description: 'Database connection pool size (1–200).' },
  { name: 'CONCORD_MIGRATIONS_RUN', default: 'true', description: 'Apply pending migrations at start (`true`/`false`).' },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  {
    name: 'CONCORD_LEDGER_KEY_FILE',
    default: 'CONCORD_DATA_DIR/ledger-key.json',
    description: 'Ed25519 signing key of the ledger; created with mode 0600 if absent.',
  },
  {
    name: 'CONCORD_RATE_LIMIT_RPS',
    default: '100',
    description: 'Requests per second per client address (bursts of 4×) before 429; 0 turns the limit off.',
  },
  {
    name: 'CONCORD_BOX_KEY_FILE',
    default: 'CONCORD_DATA_DIR/box-key.json',
    description: 'X25519 key pair to which agents seal their answers; created with mode 0600 if absent.',
  },
];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be an integer between ${min} and ${max} (got ${JSON.stringify(raw)})`);
  return value;
}

function readBoolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const lowered = raw.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(lowered)) return true;
  if (['false', '0', 'no'].includes(lowered)) return false;
  throw new ConfigError(name, `must be true or false (got ${JSON.stringify(raw)})`);
}

function readEnum<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim() as T;
  if (!allowed.includes(value)) throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw)})`);
  return value;
}

function readDatabaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    // The value may hold a password: never echo it.
    throw new ConfigError('DATABASE_URL', 'is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError('DATABASE_URL', `must use the postgres:// or postgresql:// scheme (got ${JSON.stringify(url.protocol)})`);
  }
  if (!url.hostname) throw new ConfigError('DATABASE_URL', 'has no host');
  if (url.port && !/^\d+$/.test(url.port)) throw new ConfigError('DATABASE_URL', 'has an invalid port');
  return raw.trim();
}

/** Reads and validates the environment. Throws {@link ConfigError} naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): AppConfig {
  const dataDirRaw = env.CONCORD_DATA_DIR?.trim() || './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const keyRaw = env.CONCORD_LEDGER_KEY_FILE?.trim();
  const boxKeyRaw = env.CONCORD_BOX_KEY_FILE?.trim();
  return {
    port: readInteger(env, 'PORT', 3000, 1, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    databaseUrl: readDatabaseUrl(env),
    embeddedStorage: readEnum(env, 'CONCORD_DB', ['file', 'memory'] as const, 'file'),
    dataDir,
    dbPoolSize: readInteger(env, 'CONCORD_DB_POOL_SIZE', 10, 1, 200),
    migrationsRun: readBoolean(env, 'CONCORD_MIGRATIONS_RUN', true),
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    ledgerKeyFile: keyRaw ? (isAbsolute(keyRaw) ? keyRaw : resolve(cwd, keyRaw)) : resolve(dataDir, 'ledger-key.json'),
    rateLimitRps: readInteger(env, 'CONCORD_RATE_LIMIT_RPS', 100, 0, 1_000_000),
    boxKeyFile: boxKeyRaw ? (isAbsolute(boxKeyRaw) ? boxKeyRaw : resolve(cwd, boxKeyRaw)) : resolve(dataDir, 'box-key.json'),
  };
}

/** The URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
