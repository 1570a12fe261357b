import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export { freePort, waitForHealth } from '../../scripts/lib/local-server';

export const COORDINATOR_MAIN = resolve(__dirname, '../../dist/apps/coordinator/src/main.js');

export function assertBuilt(): void {
  if (!existsSync(COORDINATOR_MAIN)) throw new Error(`${COORDINATOR_MAIN} is missing: run \`npm run build\` (npm test does it first)`);
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
