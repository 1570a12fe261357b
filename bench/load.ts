/**
 * `npm run --silent bench:load`: HTTP load on a running coordinator on real Postgres, with
 * autocannon. DATABASE_URL names the server (default postgres://postgres@127.0.0.1:5432/postgres);
 * the bench creates its own database there and drops it at the end.
 *
 * Routes, one JSON line each:
 * - `GET /budgets/{institutionId}` and `GET /budgets` with a compliance key, for a fixed time;
 * - `POST /agent/batches/{batchId}/answers`: agents' answers, each a genuinely valid request that
 *   is accepted — signed with the agent's enrolled key, a fresh nonce and a current timestamp, its
 *   histogram sealed to the coordinator's box key and bound to a batch the institution has been
 *   assigned. They are built before the run (one per batch × institution), and autocannon sends each
 *   exactly once (`amount` = their number, and `setupRequest` hands out the next one). A batch is
 *   open only once its job reaches it, so the bench runs many jobs, each with its first batch open;
 *   the last answer to a batch makes the coordinator aggregate it and charge it to every
 *   institution's budget in the ledger transaction (as in production), which opens the job's next
 *   batch. Jobs are two batches long so that none completes (a completed job queues the training of
 *   a student, which would compete for the CPU).
 *
 * The rate limit is switched off (CONCORD_RATE_LIMIT_RPS=0): every request comes from 127.0.0.1, and
 * the default 100 requests/s per address would otherwise turn the bench into a measure of 429s.
 * Every response must be 2xx (for answers: 202 with status "accepted"); after the run every batch must
 * be released with one charge per institution, and the ledger must verify. Exits non-zero otherwise.
 *
 * Options: --connections N (10), --seconds N (per read route, 10), --answers N (2400),
 * --institutions N (3). LOG_LEVEL is passed to the coordinator (default info, as in production;
 * its log goes to /dev/null).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { buildSignedRequest } from '@concord/protocol';
import type { BatchAssignment } from '@concord/protocol';
import { Client } from 'pg';
import { TestAgent } from '../test/support/agent-client';
import { bearerApi, coordinatorCli, createApiKey, freePort, sigkill, startBuiltCoordinator } from '../scripts/lib/local-server';
import { intArg } from '../scripts/lib/cli-args';
import { createScratchDatabase } from '../scripts/lib/scratch-database';

const CONNECTIONS = intArg('connections', 10);
const READ_SECONDS = intArg('seconds', 10);
const ANSWERS = intArg('answers', 2400);
const INSTITUTIONS = intArg('institutions', 3);
const BATCH_SIZE = 10;
const TEACHERS = 10;
const CLASSES = ['a', 'b', 'c'];
/** Answers sent before the measured run (JIT, connection pools), not reported. */
const WARMUP_BATCHES = 30;

const started = Date.now();
const say = (m: string): void => void process.stderr.write(`[bench:load ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);

interface PreparedRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

interface RouteResult {
  route: string;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  non2xx: number;
  requests: number;
  connections: number;
  duration_s: number;
  [extra: string]: unknown;
}

/** autocannon's result as the line printed; `wall` replaces its request count and duration (see sendAnswers). */
function summarize(route: string, r: autocannon.Result, wall?: { requests: number; seconds: number }): RouteResult {
  const requests = wall?.requests ?? r.requests.total;
  const seconds = wall?.seconds ?? r.duration;
  return {
    route,
    rps: Math.round(requests / seconds),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    requests,
    connections: r.connections,
    duration_s: Math.round(seconds * 100) / 100,
  };
}

async function main(): Promise<void> {
  const db = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'concord_load');
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-load-'));
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    CONCORD_DATA_DIR: dataDir,
    CONCORD_RATE_LIMIT_RPS: '0',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
  };
  const sql = new Client({ connectionString: db.url });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let coordinator: Awaited<ReturnType<typeof startBuiltCoordinator>> | undefined;
  const problems: string[] = [];
  try {
    const admin = createApiKey(env, 'admin');
    const compliance = createApiKey(env, 'compliance');
    coordinator = await startBuiltCoordinator(env, port);
    await sql.connect();
    const api = bearerApi(url, admin);

    // --- institutions, agents, a task, and enough jobs for every answer to have its batch ------
    const coordinatorKey = (await api('GET', '/agents/coordinator')).signingPublicKey as string;
    const agents: TestAgent[] = [];
    const institutionIds: string[] = [];
    for (let i = 0; i < INSTITUTIONS; i++) {
      const inst = await api('POST', '/institutions', { name: `Site ${i + 1}`, epsilonCap: 1000, delta: 1e-5 });
      const agent = new TestAgent(url);
      await agent.enroll((await api('POST', `/institutions/${inst.id}/enrollment-tokens`, {})).token, coordinatorKey);
      agents.push(agent);
      institutionIds.push(inst.id as string);
    }
    const task = await api('POST', '/tasks', {
      name: 'load',
      inputSpec: { kind: 'tabular', features: [{ name: 'x' }] },
      classes: CLASSES,
    });
    await api('POST', `/tasks/${task.id}/pool`, {
      split: 'public',
      examples: Array.from({ length: 2 * BATCH_SIZE }, (_, i) => [i % CLASSES.length]),
    });
    const batchesNeeded = WARMUP_BATCHES + Math.ceil(ANSWERS / INSTITUTIONS);
    let created = 0;
    // A few at a time: job creation checks each worst case against every budget.
    const createJobs = async (): Promise<void> => {
      while (created < batchesNeeded) {
        created++;
        const job = await api('POST', '/jobs', {
          taskId: task.id,
          mechanism: { kind: 'gnmax', sigma: 40 },
          participants: institutionIds,
          queries: 2 * BATCH_SIZE,
          batchSize: BATCH_SIZE,
          // No batch may time out or be retried during the run.
          batchDeadlineMs: 86_400_000,
          minTeachers: TEACHERS,
          delta: 1e-5,
        });
        await api('POST', `/jobs/${job.id}/start`);
      }
    };
    await Promise.all(Array.from({ length: 4 }, createJobs));
    say(`${INSTITUTIONS} institutions with an enrolled agent each; ${batchesNeeded} running jobs`);

    // The open batches, as GET /agent/batches/next would hand them out one by one (that route gives
    // only the oldest, so the bench reads the list in the database instead).
    const open = (
      await sql.query<{ id: string; job_id: string; attempt: number; query_indices: number[] }>(
        `SELECT b.id, b.job_id, b.attempt, b.query_indices FROM batches b WHERE b.status = 'open' ORDER BY b.opened_at, b.seq`,
      )
    ).rows;
    if (open.length !== batchesNeeded) throw new Error(`expected ${batchesNeeded} open batches, found ${open.length}`);

    // One answer per batch × institution, signed and sealed as a real agent does; batch after batch,
    // so that a batch's answers arrive together and it is aggregated and charged during the run.
    const prepare = (batches: typeof open): PreparedRequest[] =>
      batches.flatMap((b) =>
        agents.map((agent) => {
          const assignment = { jobId: b.job_id, batchId: b.id, attempt: b.attempt, answerKind: 'votes' } as BatchAssignment;
          const rows = b.query_indices.map((q) => CLASSES.map((_, c) => (c === q % CLASSES.length ? TEACHERS : 0)));
          const signed = buildSignedRequest(url, {
            method: 'POST',
            path: `/agent/batches/${b.id}/answers`,
            body: agent.answerBody(assignment, TEACHERS, rows),
            identity: agent.identity,
            agentId: agent.agentId,
          });
          return { method: 'POST' as const, path: new URL(signed.url).pathname, headers: signed.headers, body: Buffer.from(signed.body!) };
        }),
      );

    const statuses = new Map<string, number>();
    const refusals: string[] = [];
    /** Sends every prepared request exactly once; returns autocannon's result and the wall time of the run. */
    const sendAnswers = async (
      prepared: PreparedRequest[],
    ): Promise<{ result: autocannon.Result; wall: { requests: number; seconds: number } }> => {
      let next = 0;
      let first = 0;
      let last = 0;
      let answered = 0;
      const result = await autocannon({
        url,
        connections: Math.min(CONNECTIONS, prepared.length),
        amount: prepared.length,
        requests: [
          {
            setupRequest: (req) => {
              if (next === 0) first = performance.now();
              const p = prepared[next++];
              return p ? { ...req, ...p } : req;
            },
            onResponse: (status, body) => {
              last = performance.now();
              answered++;
              const accepted = status === 202 && (JSON.parse(body) as { status?: string }).status === 'accepted';
              const key = accepted ? '202 accepted' : `${status} ${body.slice(0, 200)}`;
              statuses.set(key, (statuses.get(key) ?? 0) + 1);
              if (!accepted && refusals.length < 5) refusals.push(key);
            },
          },
        ],
      });
      if (next !== prepared.length) problems.push(`${next} answers were handed to autocannon, ${prepared.length} prepared`);
      // autocannon's own duration ends on its next 1-second sample tick after the last response.
      return { result, wall: { requests: answered, seconds: (last - first) / 1000 } };
    };

    // --- answers ------------------------------------------------------------------------------
    const warmup = prepare(open.slice(0, WARMUP_BATCHES));
    await sendAnswers(warmup);
    if (statuses.get('202 accepted') !== warmup.length) problems.push(`warm-up answers refused: ${refusals.join(' | ')}`);
    const measured = open.slice(WARMUP_BATCHES);
    const prepared = prepare(measured).slice(0, ANSWERS);
    statuses.clear();
    const load = loadavg()[0];
    say(`sending ${prepared.length} answers (${measured.length} batches × ${INSTITUTIONS} institutions), ${CONNECTIONS} connections`);
    const answers = await sendAnswers(prepared);
    const answerLine = summarize('POST /agent/batches/{batchId}/answers', answers.result, answers.wall);
    const accepted = statuses.get('202 accepted') ?? 0;

    // Aggregation runs after the last answer's 202: wait for it, then check what the run did.
    const measuredIds = measured.map((b) => b.id);
    const completeBatches = Math.floor(prepared.length / INSTITUTIONS);
    let released = 0;
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
      released = Number(
        (await sql.query(`SELECT count(*) FROM batches WHERE id = ANY($1::uuid[]) AND status = 'released'`, [measuredIds])).rows[0].count,
      );
      if (released >= completeBatches) break;
    }
    const charges = Number(
      (
        await sql.query(
          `SELECT count(*) FROM ledger_entries e JOIN batches b ON e.kind = 'charge' AND e.job_id = b.job_id::text AND e.batch_id = 'batch-' || b.seq
            WHERE b.id = ANY($1::uuid[])`,
          [measuredIds],
        )
      ).rows[0].count,
    );
    Object.assign(answerLine, { accepted, batches_charged: released, charges, load_avg_1m: Math.round(load * 100) / 100 });
    if (accepted !== prepared.length) problems.push(`${accepted}/${prepared.length} answers accepted: ${refusals.join(' | ')}`);
    if (released !== completeBatches) problems.push(`${released}/${completeBatches} batches released`);
    if (charges !== released * INSTITUTIONS) problems.push(`${charges} charges for ${released} batches × ${INSTITUTIONS} institutions`);

    // --- budget reads -------------------------------------------------------------------------
    const readRoute = async (route: string, paths: string[]): Promise<RouteResult> => {
      const options = {
        url,
        connections: CONNECTIONS,
        headers: { authorization: `Bearer ${compliance}` },
        requests: paths.map((path) => ({ method: 'GET' as const, path })),
      };
      await autocannon({ ...options, duration: 2 }); // warm-up, not reported
      const loadBefore = loadavg()[0];
      const line = summarize(route, await autocannon({ ...options, duration: READ_SECONDS }));
      return Object.assign(line, { load_avg_1m: Math.round(loadBefore * 100) / 100 });
    };
    const budget = await readRoute(
      'GET /budgets/{institutionId}',
      institutionIds.map((id) => `/budgets/${id}`),
    );
    const budgets = await readRoute('GET /budgets', ['/budgets']);

    const verify = spawnSync(process.execPath, [coordinatorCli('ledger-verify')], { env, encoding: 'utf8' });
    const ledgerVerified = verify.status === 0 && (JSON.parse(verify.stdout.trim()) as { verified: boolean }).verified;
    if (!ledgerVerified) problems.push(`ledger-verify: ${verify.stdout}${verify.stderr}`);

    const machine = { nproc: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };
    for (const line of [budget, budgets, answerLine]) {
      if (line.errors !== 0 || line.non2xx !== 0) problems.push(`${line.route}: ${line.errors} errors, ${line.non2xx} non-2xx`);
      process.stdout.write(`${JSON.stringify({ ...line, rate_limit_rps: 0, ledger_verified: ledgerVerified, ...machine })}\n`);
    }
  } finally {
    if (coordinator) await sigkill(coordinator);
    await sql.end().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    await db.drop();
  }
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`bench:load: ${p}\n`);
    process.exitCode = 1;
  }
  say('done');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:load: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
