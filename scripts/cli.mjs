#!/usr/bin/env node
// Runs one of the coordinator's command-line tools from dist/, building first if any source is
// newer than the build (so `npm run --silent ledger:verify` works on a fresh clone). The build
// prints nothing on success, which keeps the tools' one-line JSON output clean.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [tool, ...args] = process.argv.slice(2);
const root = process.cwd();
// `bench/<name>` runs a compiled benchmark; any other name is a coordinator tool.
const target = tool.startsWith('bench/')
  ? join(root, 'dist', 'bench', `${tool.slice('bench/'.length)}.js`)
  : join(root, 'dist', 'apps', 'coordinator', 'src', 'cli', `${tool}.js`);

function newest(dir) {
  let latest = 0;
  if (!existsSync(dir)) return latest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(path));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(path).mtimeMs);
  }
  return latest;
}

const sources = Math.max(...['apps', 'libs', 'migrations', 'bench'].map((d) => newest(join(root, d))));
if (!existsSync(target) || statSync(target).mtimeMs < sources) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
if (!existsSync(target)) {
  process.stderr.write(`no such tool: ${tool}\n`);
  process.exit(2);
}
const run = spawnSync(process.execPath, [target, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
