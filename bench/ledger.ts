/**
 * `npm run --silent bench:ledger -- --spenders 64 --attempts 1000` against DATABASE_URL.
 *
 * 64 concurrent spenders charge overlapping sets of institutions through the real
 * LedgerService.chargeAndRelease (locks, privacy filter, hash chain, signatures, release step)
 * until `attempts` charges have been decided; the caps admit only part of them. Then, in the same
 * run and on the same server, pgbench's single-row update with as many clients gives the machine's
 * ceiling. Prints one JSON line.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKeyPair } from '@concord/crypto';
import { exactGaussianEpsilon, gnmaxEvent } from '@concord/privacy';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../apps/coordinator/src/database/data-source-options';
import { InstitutionsRepository } from '../apps/coordinator/src/institutions/institutions.repository';
import { InstitutionsService } from '../apps/coordinator/src/institutions/institutions.service';
import { LedgerKey } from '../apps/coordinator/src/ledger/ledger-key';
import { LedgerRepository } from '../apps/coordinator/src/ledger/ledger.repository';
import { type BatchReleaser, LedgerService, releaseWith } from '../apps/coordinator/src/ledger/ledger.service';
import { verifyLedger } from '../apps/coordinator/src/ledger/verify-ledger';
import { intArg } from '../scripts/lib/cli-args';
import { createScratchDatabase } from '../scripts/lib/scratch-database';

/** Runs `work` on a scratch database of the server, dropped afterwards. */
async function withServer<T>(serverUrl: string, work: (url: string, name: string) => Promise<T>): Promise<T> {
  const db = await createScratchDatabase(serverUrl, 'concord_bench');
  try {
    return await work(db.url, db.name);
  } finally {
    await db.drop();
  }
}

function pgbenchTps(dbUrl: string, clients: number, seconds: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'concord-pgbench-'));
  const script = join(dir, 'single-row-update.sql');
  writeFileSync(script, '\\set aid random(1, 100000)\nUPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = :aid;\n');
  const url = new URL(dbUrl);
  const env = {
    ...process.env,
    PGHOST: url.hostname,
    PGPORT: url.port || '5432',
    PGUSER: decodeURIComponent(url.username || 'postgres'),
    PGPASSWORD: decodeURIComponent(url.password),
    PGDATABASE: url.pathname.slice(1),
  };
  try {
    const init = spawnSync('pgbench', ['-i', '-q', '-s', '1'], { env, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
    const run = spawnSync(
      'pgbench',
      ['-n', '-c', String(clients), '-j', String(Math.min(clients, cpus().length)), '-T', String(seconds), '-f', script],
      { env, encoding: 'utf8' },
    );
    const match = /tps = ([0-9.]+)/.exec(run.stdout);
    if (run.status !== 0 || !match) throw new Error(`pgbench failed: ${run.stderr || run.stdout}`);
    return Number(match[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const spenders = intArg('spenders', 64);
  const attempts = intArg('attempts', 1000);
  const institutionsCount = intArg('institutions', 16);
  const perAttempt = Math.min(3, institutionsCount);
  const warmup = intArg('warmup', 300);
  const releaseMode = process.argv.includes('--release-per-call') ? 'per_call' : 'batched';
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL must point at a Postgres server (the benchmark creates and drops its own database)');

  const sigma = 40;
  const queriesPerBatch = 20;
  const event = gnmaxEvent(sigma, queriesPerBatch);
  // Each institution is touched by about attempts·perAttempt/institutions charges; the cap admits about half.
  const admitted = Math.max(1, Math.floor((attempts * perAttempt) / institutionsCount / 2));
  // Budgets convert exactly (a composition of Gaussian mechanisms): ε of `admitted` batches.
  const cap = exactGaussianEpsilon(gnmaxEvent(sigma, admitted * queriesPerBatch), 1e-6)! * (1 + 1e-9);

  const result = await withServer(serverUrl, async (url) => {
    const dataSource = new DataSource(dataSourceOptions(url, spenders + 2));
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await dataSource.query(`CREATE TABLE bench_released (job_id text NOT NULL, batch_id text NOT NULL, labels int[] NOT NULL)`);
    const keyPair = generateSigningKeyPair();
    const repository = new LedgerRepository(dataSource);
    const ledger = new LedgerService(repository, LedgerKey.fromKeyPair(keyPair));
    const institutions = new InstitutionsService(new InstitutionsRepository(dataSource), ledger);
    const actor = { kind: 'system', id: 'bench' } as const;
    const ids: string[] = [];
    for (let i = 0; i < institutionsCount; i++)
      ids.push((await institutions.create({ name: `bench-${i}`, epsilonCap: cap, delta: 1e-6 }, actor)).id);

    const labels = Array.from({ length: queriesPerBatch }, (_, i) => i % 10);
    // The batch's labels, written for every charged call of a group in one INSERT.
    const releaser: BatchReleaser<{ jobId: string; batchId: string; labels: number[] }, void> = {
      async releaseAll(scope, items) {
        await scope.query(
          `INSERT INTO bench_released (job_id, batch_id, labels)
           SELECT j, b, l::int[] FROM unnest($1::text[], $2::text[], $3::text[]) AS t(j, b, l)`,
          [items.map((i) => i.jobId), items.map((i) => i.batchId), items.map((i) => `{${i.labels.join(',')}}`)],
        );
        return items.map(() => undefined);
      },
    };
    /** `count` attempts by `spenders` concurrent callers over the institutions `on`. */
    const spend = async (count: number, on: string[], prefix: string): Promise<{ accepted: number; refused: number; errors: number }> => {
      let next = 0;
      let accepted = 0;
      let refused = 0;
      let errors = 0;
      const ids = on;
      await Promise.all(
        Array.from({ length: spenders }, async () => {
          for (;;) {
            const k = next++;
            if (k >= count) return;
            // Overlapping sets: consecutive institutions from a start that moves with the attempt number.
            const set = Array.from({ length: perAttempt }, (_, j) => ids[(k * 5 + j * 3) % institutionsCount]).filter(
              (v, j, a) => a.indexOf(v) === j,
            );
            try {
              const jobId = `${prefix}job-${k % 7}`;
              const batchId = String(k);
              const outcome = await ledger.chargeAndRelease({
                jobId,
                batchId,
                charges: set.map((institutionId) => ({ institutionId, event })),
                release:
                  releaseMode === 'batched'
                    ? releaseWith(releaser, { jobId, batchId, labels })
                    : async (scope) => {
                        await scope.query(`INSERT INTO bench_released (job_id, batch_id, labels) VALUES ($1, $2, $3)`, [
                          jobId,
                          batchId,
                          labels,
                        ]);
                      },
              });
              if (outcome.status === 'charged') accepted++;
              else refused++;
            } catch (err) {
              errors++;
              if (errors <= 3) process.stderr.write(`charge error: ${err instanceof Error ? err.message : String(err)}\n`);
            }
          }
        }),
      );
      return { accepted, refused, errors };
    };
    // Warm-up, not timed: the same calls on other institutions with ample caps, so that the JIT
    // and the connection pool are warm when timing starts (pgbench's clients connect first, too).
    if (warmup > 0) {
      const warmIds: string[] = [];
      for (let i = 0; i < institutionsCount; i++)
        warmIds.push((await institutions.create({ name: `warm-${i}`, epsilonCap: 1e6, delta: 1e-6 }, actor)).id);
      const warm = await spend(warmup, warmIds, 'warm-');
      if (warm.errors > 0) throw new Error(`${warm.errors} errors during the warm-up`);
    }
    const started = process.hrtime.bigint();
    const { accepted, refused, errors } = await spend(attempts, ids, '');
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const timed = new Set(ids);
    const budgets = (await ledger.listBudgets()).filter((b) => timed.has(b.institutionId));
    const maxSpent = Math.max(...budgets.map((b) => b.epsilonSpent));
    const overspend = budgets.some((b) => b.epsilonSpent > b.epsilonCap);
    const verification = await verifyLedger(repository, keyPair.publicKey);
    const [{ c: releases }] = await dataSource.query<{ c: string }[]>(
      `SELECT count(*) AS c FROM bench_released WHERE job_id NOT LIKE 'warm-%'`,
    );
    await dataSource.destroy();
    return { accepted, refused, errors, seconds, maxSpent, overspend, verified: verification.verified, releases: Number(releases) };
  });

  const pgbench = await withServer(serverUrl, (url) => Promise.resolve(pgbenchTps(url, spenders, 10)));
  const chargesPerS = attempts / result.seconds;
  process.stdout.write(
    `${JSON.stringify({
      attempts,
      accepted: result.accepted,
      refused: result.refused,
      cap_epsilon: cap,
      max_spent_epsilon: result.maxSpent,
      overspend: result.overspend,
      errors: result.errors,
      releases: result.releases,
      charges_per_s: Math.round(chargesPerS),
      accepted_per_s: Math.round(result.accepted / result.seconds),
      pgbench_tps: Math.round(pgbench),
      ratio: Number((chargesPerS / pgbench).toFixed(3)),
      chain_verified: result.verified,
      spenders,
      institutions: institutionsCount,
      institutions_per_charge: perAttempt,
      release: releaseMode,
      warmup,
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ledger: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
