// `npm run test:browser`: drives Debian's Chromium (playwright-core) against a coordinator started
// in-process on an in-memory PGlite, and ends with the plain line `N passed, N failed` that CI reads.
// CHROMIUM (default /usr/bin/chromium) names the browser; extra arguments go to vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.error(`no browser at ${chromium} (apt-get install chromium, or set CHROMIUM)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'concord-browser-vitest-'));
const report = join(dir, 'report.json');
const vitest = join(process.cwd(), 'node_modules', '.bin', 'vitest');
// Always an in-memory PGlite: the browser tests need no database server, whatever DATABASE_URL says.
const env: NodeJS.ProcessEnv = { ...process.env, CHROMIUM: chromium, VITE_CONFIG_NATIVE_IGNORE_WARNING: 'true' };
delete env.DATABASE_URL;
const run = spawnSync(
  vitest,
  [
    'run',
    '--config',
    'test/browser/vitest.config.ts',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env },
);
let passed = 0;
let failed = 0;
try {
  const summary = JSON.parse(readFileSync(report, 'utf8'));
  passed = summary.numPassedTests;
  failed = summary.numFailedTests + (summary.numRuntimeErrorTestSuites ?? 0);
  failed += (summary.testResults as { status: string; assertionResults: unknown[] }[]).filter(
    (r) => r.status === 'failed' && r.assertionResults.length === 0,
  ).length;
  if (summary.numTotalTests === 0) failed = Math.max(failed, 1);
} catch {
  failed = Math.max(failed, 1);
}
rmSync(dir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
