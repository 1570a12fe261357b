import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** A loopback port that is free now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls `GET /health` until it answers 200; resolves with the milliseconds it took. */
export async function waitForHealth(baseUrl: string, timeoutMs: number, pollMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`no healthy answer from ${baseUrl} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * A JSON client for the coordinator's API with a Bearer key: parses the answer, throws with the
 * status and body on any 4xx/5xx.
 */
export function bearerApi(baseUrl: string, key: string): (method: string, path: string, body?: unknown) => Promise<any> {
  return async (method, path, body) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

const DIST = resolve(__dirname, '..', '..', 'dist', 'apps', 'coordinator', 'src');
/** The built coordinator (`npm run build`). */
export const BUILT_COORDINATOR = join(DIST, 'main.js');

/** A built command-line tool of the coordinator (`admin-create-key`, `ledger-verify`, …). */
export function coordinatorCli(name: string): string {
  return join(DIST, 'cli', `${name}.js`);
}

/** Creates an API key with the built `admin:create-key` in the database of `env`; returns the key. */
export function createApiKey(env: NodeJS.ProcessEnv, role: 'admin' | 'compliance'): string {
  const run = spawnSync(process.execPath, [coordinatorCli('admin-create-key'), '--role', role], { env, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`admin:create-key --role ${role}: ${run.stderr}`);
  return run.stdout.trim().split('\n').pop()!;
}

/**
 * Starts the built coordinator on 127.0.0.1:`port` with `env` and resolves once `/health` answers
 * 200. `stderr: 'inherit'` shows its warnings and errors (the demo and benchmarks do).
 */
export async function startBuiltCoordinator(
  env: NodeJS.ProcessEnv,
  port: number,
  options: { stderr?: 'inherit' | 'ignore'; timeoutMs?: number } = {},
): Promise<ChildProcess> {
  if (!existsSync(BUILT_COORDINATOR)) throw new Error(`${BUILT_COORDINATOR} is missing: run \`npm run build\``);
  const child = spawn(process.execPath, [BUILT_COORDINATOR], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', options.stderr ?? 'ignore'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`the coordinator exited during start (${signal ?? code})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([waitForHealth(`http://127.0.0.1:${port}`, options.timeoutMs ?? 30_000, 50), exited]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return child;
}

/** SIGKILL, and resolves once the process is gone. */
export async function sigkill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}
