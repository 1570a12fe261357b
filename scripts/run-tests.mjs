#!/usr/bin/env node
// Runs the default suite (unit + integration + e2e) with vitest, after building the coordinator
// (the e2e tests start the built binary as an operator would). Ends with the plain line
// `N passed, N failed` that CI reads. Extra arguments go to vitest (e.g. a path filter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const skipBuild = args[0] === '--no-build';
const vitestArgs = skipBuild ? args.slice(1) : args;
const bin = (name) => join(process.cwd(), 'node_modules', '.bin', name);

if (!skipBuild) {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) {
    console.log('0 passed, 1 failed');
    process.exit(build.status ?? 1);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'concord-vitest-'));
const report = join(dir, 'report.json');
const run = spawnSync(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...vitestArgs], {
  stdio: 'inherit',
  env: { ...process.env, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' },
});
let passed = 0;
let failed = 0;
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  passed = summary.numPassedTests;
  failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
  // A test file that failed to load counts as a failure even though it ran no test.
  failed += summary.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
const db = process.env.DATABASE_URL ? 'Postgres (DATABASE_URL)' : 'embedded PGlite';
console.log(`\ndatabase for integration and e2e tests: ${db}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
