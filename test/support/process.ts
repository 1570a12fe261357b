import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const COORDINATOR_MAIN = resolve(__dirname, '../../dist/apps/coordinator/src/main.js');

export function assertBuilt(): void {
  if (!existsSync(COORDINATOR_MAIN)) throw new Error(`${COORDINATOR_MAIN} is missing: run \`npm run build\` (npm test does it first)`);
}

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

export interface Spawned {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Runs the built coordinator with exactly the given environment (plus PATH). */
export function spawnCoordinator(env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [COORDINATOR_MAIN], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, output: () => out, exited };
}

export async function waitForHealth(baseUrl: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    try {
      const res = await fetch(`${baseUrl}/health`);
      if (res.status === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`no healthy answer from ${baseUrl} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
