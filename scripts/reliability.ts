/**
 * `npm run --silent test:reliability`: promises kept under faults, against real Postgres
 * (DATABASE_URL, default the local server; a fresh database is created and dropped).
 *
 * - Crash consistency: a job runs while the coordinator process is killed with SIGKILL at 20
 *   moments — random ones, and some right after the last answer of a batch, when the charge
 *   transaction runs — and restarted each time; the job must resume and finish, the ledger verify,
 *   every released batch carry exactly one charge per institution that answered it, and no label
 *   exist without its batch's charges.
 * - Hostile input: 10,000 requests that are all invalid (unknown fields, wrong types, malformed
 *   JSON, wrong content types, forged agent signatures): no 5xx, and table checksums unchanged.
 * - RBAC: every documented route × {anonymous, admin, compliance, agent} against the declared table.
 *
 * Bounded in time; prints one JSON line and exits non-zero if any promise is broken.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { TestAgent } from '../test/support/agent-client';
import { ALL, MATRIX } from '../test/support/rbac-matrix';
import { AUDITED_TABLES, tableChecksum } from '../test/support/table-checksum';
import { bearerApi, freePort, waitForHealth } from './lib/local-server';

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist', 'apps', 'coordinator', 'src', 'main.js');
const CLI = (name: string): string => join(ROOT, 'dist', 'apps', 'coordinator', 'src', 'cli', `${name}.js`);
const KILLS = 20;
const FUZZ_REQUESTS = 10_000;
const DEADLINE_MS = 8 * 60_000;

const started = Date.now();
const say = (m: string): void => void process.stderr.write(`[reliability ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `concord_rel_${randomBytes(4).toString('hex')}`;
  const adminDb = new Client({ connectionString: server });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE "${name}"`);
  await adminDb.end();
  const dbUrl = Object.assign(new URL(server), { pathname: `/${name}` }).toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-rel-'));
  const env = { ...process.env, DATABASE_URL: dbUrl, CONCORD_DATA_DIR: dataDir, LOG_LEVEL: 'error', CONCORD_RATE_LIMIT_RPS: '0' };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let coordinator: ChildProcess | undefined;
  const sql = new Client({ connectionString: dbUrl });

  const startCoordinator = async (): Promise<void> => {
    coordinator = spawn(process.execPath, [MAIN], {
      env: { ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    await waitForHealth(url, 30_000, 50);
  };
  const kill = async (): Promise<void> => {
    const c = coordinator!;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };

  try {
    const run = spawnSync(process.execPath, [CLI('admin-create-key'), '--role', 'admin'], { env, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`admin:create-key: ${run.stderr}`);
    const admin = run.stdout.trim().split('\n').pop()!;
    const compliance = spawnSync(process.execPath, [CLI('admin-create-key'), '--role', 'compliance'], { env, encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .pop()!;
    await startCoordinator();
    await sql.connect();
    const api = bearerApi(url, admin);

    // --- crash consistency -------------------------------------------------------------------
    const coordinatorKey = (await api('GET', '/agents/coordinator')).signingPublicKey as string;
    const agents: TestAgent[] = [];
    for (const n of ['North', 'South', 'East']) {
      const inst = await api('POST', '/institutions', { name: n, epsilonCap: 900, delta: 1e-5 });
      const agent = new TestAgent(url);
      await agent.enroll((await api('POST', `/institutions/${inst.id}/enrollment-tokens`, {})).token, coordinatorKey);
      agents.push(agent);
    }
    const task = await api('POST', '/tasks', {
      name: 'crash',
      inputSpec: { kind: 'tabular', features: [{ name: 'x' }] },
      classes: ['a', 'b', 'c'],
    });
    await api('POST', `/tasks/${task.id}/pool`, { split: 'public', examples: Array.from({ length: 900 }, (_, i) => [i % 3]) });
    const job = await api('POST', '/jobs', {
      taskId: task.id,
      mechanism: { kind: 'confident_gnmax', threshold: 15, sigma1: 3, sigma2: 2 },
      participants: (await api('GET', '/institutions')).map((i: { id: string }) => i.id),
      queries: 900,
      batchSize: 10,
      batchDeadlineMs: 20_000,
      minTeachers: 10,
      delta: 1e-5,
    });
    await api('POST', `/jobs/${job.id}/start`);
    let kills = 0;
    let nextKill = Date.now() + 100 + Math.random() * 600;
    for (;;) {
      if (Date.now() - started > DEADLINE_MS) throw new Error('crash-consistency phase ran out of time');
      let status = 'unknown';
      try {
        status = (await api('GET', `/jobs/${job.id}`)).status;
      } catch {
        // down: restarted below
      }
      if (status === 'completed' || status === 'failed') break;
      for (const [i, agent] of agents.entries()) {
        try {
          const batch = await agent.nextBatch();
          if (!batch) continue;
          await agent.answer(
            batch,
            5,
            batch.queries.map((q) => [0, 1, 2].map((c) => (c === q.features[0] ? 5 : 0))),
          );
          // Every third kill lands right after a batch's last answer: inside the aggregation and charge.
          if (i === agents.length - 1 && kills < KILLS && kills % 3 === 2) {
            await sleep(Math.random() * 40);
            await kill();
            kills++;
            await startCoordinator();
            nextKill = Date.now() + 100 + Math.random() * 600;
          }
        } catch {
          // the coordinator is down or restarting: try again
        }
      }
      if (kills < KILLS && Date.now() >= nextKill) {
        await kill();
        kills++;
        await startCoordinator();
        nextKill = Date.now() + 100 + Math.random() * 600;
      }
      await sleep(20);
    }
    const final = await api('GET', `/jobs/${job.id}`);
    say(`job ${final.status} after ${kills} SIGKILL restarts: ${final.released}/${final.queries} released`);
    const uncharged = await sql.query(
      `SELECT b.seq FROM batches b WHERE b.job_id = $1 AND b.status = 'released'
          AND (SELECT count(*) FROM ledger_entries e WHERE e.kind = 'charge' AND e.job_id = $1::text AND e.batch_id = 'batch-' || b.seq)
              <> (SELECT count(*) FROM submissions s WHERE s.batch_id = b.id AND s.attempt = b.attempt)
       UNION ALL
       SELECT l.query_index FROM released_labels l JOIN batches b ON b.id = l.batch_id WHERE b.status <> 'released'`,
      [job.id],
    );
    const doubles = await sql.query(
      `SELECT job_id, batch_id, institution_id FROM ledger_entries WHERE kind = 'charge' GROUP BY 1, 2, 3 HAVING count(*) > 1`,
    );
    // --- replicas: three coordinators on one Postgres, two jobs at once over the same institutions ---
    const replicas: ChildProcess[] = [];
    const replicaUrls: string[] = [];
    for (let r = 0; r < 3; r++) {
      const p = await freePort();
      replicas.push(
        spawn(process.execPath, [MAIN], { env: { ...env, PORT: String(p), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'ignore'] }),
      );
      replicaUrls.push(`http://127.0.0.1:${p}`);
    }
    for (const u of replicaUrls) await waitForHealth(u, 30_000, 50);
    agents.forEach((a, i) => (a.baseUrl = replicaUrls[i % replicaUrls.length]));
    const participants = (await api('GET', '/institutions')).map((i: { id: string }) => i.id) as string[];
    const twoJobs: string[] = [];
    for (let j = 0; j < 2; j++) {
      const created = await api('POST', '/jobs', {
        taskId: task.id,
        mechanism: { kind: 'gnmax', sigma: 3 },
        participants,
        queries: 300,
        batchSize: 10,
        batchDeadlineMs: 20_000,
        minTeachers: 10,
        delta: 1e-5,
      });
      twoJobs.push(created.id);
    }
    // Started through different replicas.
    for (const [j, id] of twoJobs.entries()) {
      const res = await fetch(`${replicaUrls[j]}/jobs/${id}/start`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
      if (res.status !== 200) throw new Error(`start via replica: ${res.status}`);
    }
    for (;;) {
      if (Date.now() - started > DEADLINE_MS) throw new Error('replica phase ran out of time');
      const states = await Promise.all(twoJobs.map((id) => api('GET', `/jobs/${id}`)));
      if (states.every((st: { status: string }) => ['completed', 'failed', 'cancelled'].includes(st.status))) break;
      await Promise.all(
        agents.map(async (agent) => {
          try {
            const batch = await agent.nextBatch();
            if (batch)
              await agent.answer(
                batch,
                5,
                batch.queries.map((q) => [0, 1, 2].map((c) => (c === q.features[0] ? 5 : 0))),
              );
          } catch {
            // a replica refused a race (409): the next round settles it
          }
        }),
      );
      await sleep(20);
    }
    for (const r of replicas) r.kill('SIGTERM');
    for (const agent of agents) agent.baseUrl = url;
    const replicaJobs = await Promise.all(twoJobs.map((id) => api('GET', `/jobs/${id}`)));
    say(`replicas: ${replicaJobs.map((j: { status: string; released: number }) => `${j.status} ${j.released}/300`).join(', ')}`);
    const overspend = await sql.query(`SELECT institution_id FROM privacy_budgets WHERE epsilon_spent > epsilon_cap`);
    const doubleReleases = await sql.query(
      `SELECT b.job_id, b.seq FROM batches b WHERE b.job_id = ANY($1::uuid[]) AND b.status = 'released'
          AND (SELECT count(*) FROM released_labels l WHERE l.batch_id = b.id) <> cardinality(b.query_indices)`,
      [twoJobs],
    );
    const replicaUncharged = await sql.query(
      `SELECT b.seq FROM batches b WHERE b.job_id = ANY($1::uuid[]) AND b.status = 'released'
          AND (SELECT count(*) FROM ledger_entries e WHERE e.kind = 'charge' AND e.job_id = b.job_id::text AND e.batch_id = 'batch-' || b.seq)
              <> (SELECT count(*) FROM submissions s WHERE s.batch_id = b.id AND s.attempt = b.attempt)`,
      [twoJobs],
    );

    const verify = spawnSync(process.execPath, [CLI('ledger-verify')], { env, encoding: 'utf8' });
    const ledgerVerified = verify.status === 0 && (JSON.parse(verify.stdout.trim()) as { verified: boolean }).verified;

    // --- hostile input -------------------------------------------------------------------------
    const checksum = (): Promise<string> => tableChecksum(sql, AUDITED_TABLES);
    // Routes whose body has required fields: an unparsed (text/plain) body is invalid for each of them.
    const writes = [
      'POST /institutions',
      'PATCH /budgets/{id}/cap',
      'POST /tasks',
      'POST /tasks/{id}/pool',
      'POST /jobs',
      'POST /agents/enroll',
    ];
    const before = await checksum();
    let http5xx = 0;
    let fuzzed = 0;
    const hostile = [null, 'NaN', 1e308, -1, '', [], {}, 'x'.repeat(5000), true, [[[]]]];
    const inst0 = (await api('GET', '/institutions'))[0].id as string;
    while (fuzzed < FUZZ_REQUESTS) {
      const batch = Array.from({ length: 50 }, async (_, k) => {
        const n = fuzzed + k;
        const route = writes[n % writes.length];
        const [method, template] = route.split(' ');
        const path = template.replace(
          '{id}',
          n % 7 === 0 ? randomUUID() : route.includes('tasks') ? task.id : route.includes('jobs') ? job.id : inst0,
        );
        let body: string;
        let type = 'application/json';
        switch (n % 4) {
          case 0: // an unknown field: always refused (whitelisted DTOs)
            body = JSON.stringify({ [`unknown_${n % 13}`]: hostile[n % hostile.length], name: 'x' });
            break;
          case 1: // malformed JSON
            body = `{"name": ${'['.repeat(n % 5)}`;
            break;
          case 2: // wrong content type
            body = JSON.stringify({ name: 'x' });
            type = 'text/plain';
            break;
          default: // wrong types for every field a DTO could want
            body = JSON.stringify({
              name: 17,
              epsilonCap: 'lots',
              delta: 'tiny',
              reason: 5,
              taskId: 3,
              queries: 'many',
              split: 9,
              examples: 'none',
              token: 42,
            });
        }
        const headers: Record<string, string> = { 'content-type': type };
        if (n % 10 !== 9) headers.authorization = `Bearer ${n % 5 === 0 ? compliance : admin}`;
        const res = await fetch(`${url}${path}`, { method, headers, body });
        await res.arrayBuffer();
        if (res.status >= 500) http5xx++;
      });
      await Promise.all(batch);
      fuzzed += batch.length;
    }
    // Forged and replayed agent signatures.
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${url}/agent/batches/next`, {
        headers: {
          'x-concord-agent': agents[0].agentId,
          'x-concord-timestamp': String(Date.now() - (i % 2) * 600_000),
          'x-concord-nonce': `forged-${i}-0123456789ab`,
          'x-concord-signature': 'A'.repeat(86),
        },
      });
      if (res.status >= 500) http5xx++;
      fuzzed++;
    }
    const rowsChanged = (await checksum()) === before ? 0 : 1;

    // --- RBAC ----------------------------------------------------------------------------------
    const doc = (await (await fetch(`${url}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths).flatMap(([p, m]) => Object.keys(m).map((x) => `${x.toUpperCase()} ${p}`));
    let rbacCases = 0;
    let rbacFailures = documented.filter((r) => !(r in MATRIX)).length;
    const keys = { admin, compliance };
    for (const route of Object.keys(MATRIX)) {
      const [method, template] = route.split(' ');
      const path = template.replace(/\{[^}]+\}/g, () => randomUUID());
      const body = method === 'GET' ? undefined : {};
      for (const caller of ALL) {
        const status =
          caller === 'agent'
            ? (await agents[1].request(method, path, body)).status
            : (
                await fetch(`${url}${path}`, {
                  method,
                  headers: {
                    ...(caller === 'anonymous' ? {} : { authorization: `Bearer ${keys[caller]}` }),
                    ...(body ? { 'content-type': 'application/json' } : {}),
                  },
                  body: body ? JSON.stringify(body) : undefined,
                })
              ).status;
        rbacCases++;
        if (MATRIX[route].includes(caller) === (status === 401 || status === 403) || status >= 500) rbacFailures++;
      }
    }

    const result = {
      kill_restarts: kills,
      ledger_verified: ledgerVerified,
      uncharged_releases: uncharged.rowCount ?? 0,
      double_charges: doubles.rowCount ?? 0,
      jobs_completed: [final, ...replicaJobs].filter((j: { status: string }) => j.status === 'completed').length,
      replicas: 3,
      replica_double_releases: doubleReleases.rowCount ?? 0,
      replica_uncharged_releases: replicaUncharged.rowCount ?? 0,
      overspend: (overspend.rowCount ?? 0) > 0,
      fuzz_requests: fuzzed,
      http_5xx: http5xx,
      rows_changed_by_bad_input: rowsChanged,
      rbac_cases: rbacCases,
      rbac_failures: rbacFailures,
      wall_s: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    const ok =
      result.kill_restarts === KILLS &&
      result.ledger_verified &&
      result.uncharged_releases === 0 &&
      result.double_charges === 0 &&
      result.jobs_completed === 3 &&
      result.replica_double_releases === 0 &&
      result.replica_uncharged_releases === 0 &&
      !result.overspend &&
      result.http_5xx === 0 &&
      result.rows_changed_by_bad_input === 0 &&
      result.rbac_failures === 0;
    process.exitCode = ok ? 0 : 1;
  } finally {
    coordinator?.kill('SIGKILL');
    await sql.end().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    const cleanup = new Client({ connectionString: server });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await cleanup.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`reliability: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
