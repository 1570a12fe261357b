/**
 * `npm run --silent test:reliability`: promises kept under faults, against real Postgres
 * (DATABASE_URL, default the local server; a fresh database is created and dropped).
 *
 * - Crash consistency: a job runs while the coordinator process is killed with SIGKILL at 20
 *   moments and restarted each time; the job must resume and finish, the ledger verify, every
 *   released batch carry exactly one charge per institution that answered it, and no label exist
 *   without its batch's charges. Three of the kills are aimed inside the charge transaction, and
 *   proven to land there: the script watches Postgres' lock table for the coordinator's backend in
 *   a charge transaction (scripts/lib/charge-transaction-watch.ts) and kills at that moment — with
 *   the budget rows locked, after the ledger append, during the release step — then reads from the
 *   commit log that the transaction was aborted, and after the job checks that the batch was
 *   charged again, once per institution, by a transaction that began after the kill. Every other
 *   kill also checks the lock table just before it, and counts if it cut a charge transaction off.
 *   `kills_inside_charge_tx` must be at least 1. The other kills come at random while the
 *   coordinator serves an agent's request, not during an aggregation: a kill there leaves the
 *   batch's lease behind until it expires (5 s; its owner is gone and no longer renews it).
 * - Replicas: three coordinators on one Postgres, two jobs at once over the same institutions: no
 *   double release, no uncharged release, no overspend.
 * - Agent faults: one agent takes a batch and dies (the batch is aggregated at its deadline with
 *   the others, the dead agent uncharged); another loses the reply to its answer and resends the
 *   same sealed answer (told `already_received`, charged once).
 * - Hostile input: 10,000 requests that are all invalid (unknown fields, wrong types, malformed
 *   JSON, wrong content types, forged agent signatures): no 5xx, and table checksums unchanged.
 * - RBAC: every documented route × {anonymous, admin, compliance, agent} against the declared table.
 *
 * Bounded in time; prints one JSON line and exits non-zero if any promise is broken.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import type { BatchAssignment } from '@concord/protocol';
import { TestAgent } from '../test/support/agent-client';
import { ALL, MATRIX } from '../test/support/rbac-matrix';
import { AUDITED_TABLES, tableChecksum } from '../test/support/table-checksum';
import { CHARGE_STAGES, type ChargeStage, ChargeTransactionWatch, type ChargeTransaction } from './lib/charge-transaction-watch';
import {
  BUILT_COORDINATOR as MAIN,
  bearerApi,
  coordinatorCli as CLI,
  createApiKey,
  freePort,
  sigkill,
  startBuiltCoordinator,
  waitForHealth,
} from './lib/local-server';
import { createScratchDatabase } from './lib/scratch-database';

const KILLS = 20;
/** Kills aimed inside the charge transaction, one per stage in CHARGE_STAGES order. */
const CHARGE_TX_KILLS = 3;
/** Batches whose charge transaction may slip past the watch before an aimed kill falls back to a plain one. */
const CHARGE_TX_MISSES = 30;
const FUZZ_REQUESTS = 10_000;
const DEADLINE_MS = 8 * 60_000;

const started = Date.now();
const say = (m: string): void => void process.stderr.write(`[reliability ${((Date.now() - started) / 1000).toFixed(0)}s] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const db = await createScratchDatabase(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', 'concord_rel');
  const dbUrl = db.url;
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-rel-'));
  const env = { ...process.env, DATABASE_URL: dbUrl, CONCORD_DATA_DIR: dataDir, LOG_LEVEL: 'error', CONCORD_RATE_LIMIT_RPS: '0' };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let coordinator: ChildProcess | undefined;
  const sql = new Client({ connectionString: dbUrl });
  // Its own connection: it polls pg_locks while the agents' requests go on.
  const watchSql = new Client({ connectionString: dbUrl });
  const watch = new ChargeTransactionWatch(watchSql);

  const startCoordinator = async (): Promise<void> => {
    coordinator = await startBuiltCoordinator(env, port);
  };
  /** Charge transactions that a kill cut off (proven by their abort): the stage each was seen at. */
  const insideKills: ChargeStage[] = [];
  /**
   * SIGKILL. `caught` is a charge transaction seen running just before; otherwise the lock table is
   * read once more right before the kill. Any of them that Postgres then aborted was cut off by it.
   */
  const kill = async (caught?: ChargeTransaction): Promise<'aborted' | 'committed' | 'none'> => {
    const running = caught ? [caught] : await watch.running();
    await sigkill(coordinator!);
    let result: 'aborted' | 'committed' | 'none' = 'none';
    for (const tx of running) {
      const outcome = await watch.outcome(tx);
      if (outcome === 'aborted') {
        insideKills.push(tx.stage);
        result = 'aborted';
        break;
      }
      if (outcome === 'committed') result = 'committed';
    }
    return result;
  };

  try {
    const admin = createApiKey(env, 'admin');
    const compliance = createApiKey(env, 'compliance');
    await startCoordinator();
    await sql.connect();
    await watchSql.connect();
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
    let lastBatchAt = Date.now();
    let lastAnswerAt = 0;
    let chargeTxMisses = 0;
    /** Aimed kills that cut a charge transaction off: the batch and when, to check its charges after the job. */
    const aimedHits: { seq: number; killedAt: Date }[] = [];
    /** The agents whose answer each batch attempt has accepted: the last one starts its aggregation. */
    const answered = new Map<string, Set<number>>();
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
          lastBatchAt = Date.now();
          const res = await agent.answer(
            batch,
            5,
            batch.queries.map((q) => [0, 1, 2].map((c) => (c === q.features[0] ? 5 : 0))),
          );
          lastAnswerAt = Date.now();
          if (res.status !== 202) continue;
          const key = `${batch.batchId}/${batch.attempt}`;
          const got = (answered.get(key) ?? new Set<number>()).add(i);
          answered.set(key, got);
          if (got.size < agents.length) continue;
          // That was the batch's last answer: the coordinator aggregates and charges it now. Aimed
          // kill number a (a = 0, 1, 2), once at least 6a + 2 kills are done, waits for the charge
          // transaction to be at CHARGE_STAGES[a] and kills it there; a batch whose transaction slips
          // past that stage is let go, and the next one is tried.
          const aimed = aimedHits.length;
          if (kills < KILLS && aimed < CHARGE_TX_KILLS && kills >= 6 * aimed + 2 && chargeTxMisses < CHARGE_TX_MISSES) {
            const tx = await watch.waitFor(CHARGE_STAGES[aimed], 3_000);
            if (!tx) {
              chargeTxMisses++;
              continue;
            }
            const killedAt = new Date();
            const outcome = await kill(tx);
            say(`aimed kill ${aimed + 1}: batch ${batch.seq}, charge transaction ${tx.xid} at ${tx.stage}: ${outcome}`);
            if (outcome === 'aborted') aimedHits.push({ seq: batch.seq, killedAt });
            else chargeTxMisses++;
            kills++;
            await startCoordinator();
            nextKill = Date.now() + 100 + Math.random() * 600;
          }
        } catch {
          // the coordinator is down or restarting: try again
        }
      }
      // The other kills come at random, while the coordinator serves an agent's request for its next
      // batch — but never during an aggregation: a kill there leaves the batch's lease behind until it
      // expires (5 s), a wait the aimed kills take on purpose and the random ones need not.
      // So the script first waits for a quiet moment: no open batch leased or complete, twice, 30 ms
      // apart, at least 100 ms after the last answer. Slots are kept for the aimed kills to come.
      const reserved = chargeTxMisses < CHARGE_TX_MISSES ? CHARGE_TX_KILLS - aimedHits.length : 0;
      if (kills < KILLS - reserved && Date.now() >= nextKill && Date.now() - lastBatchAt < 2_000) {
        const busy = async (): Promise<boolean> =>
          (
            await sql.query(
              `SELECT 1 FROM batches b WHERE b.job_id = $1 AND b.status = 'open' AND (b.lease_until IS NOT NULL
                  OR (SELECT count(*) FROM submissions s WHERE s.batch_id = b.id AND s.attempt = b.attempt) >= $2)`,
              [job.id, agents.length],
            )
          ).rows.length > 0;
        await sleep(Math.max(0, lastAnswerAt + 100 - Date.now()));
        for (const until = Date.now() + 2_000; Date.now() < until; await sleep(30)) {
          if (await busy()) continue;
          await sleep(30);
          if (await busy()) continue;
          const inFlight = agents[kills % agents.length].nextBatch().catch(() => null);
          await sleep(Math.random() * 10);
          await kill();
          await inFlight;
          kills++;
          await startCoordinator();
          nextKill = Date.now() + 100 + Math.random() * 600;
          break;
        }
      }
      await sleep(20);
    }
    const final = await api('GET', `/jobs/${job.id}`);
    say(
      `job ${final.status} after ${kills} SIGKILL restarts: ${final.released}/${final.queries} released; ` +
        `${insideKills.length} kills inside a charge transaction (${aimedHits.length} aimed, ${chargeTxMisses} missed)`,
    );
    // Each batch whose charge transaction an aimed kill cut off: charged again afterwards, once per institution.
    let chargeTxKillsUnconfirmed = 0;
    for (const hit of aimedHits) {
      const { rows } = await sql.query<{ charges: string; before: string }>(
        `SELECT count(*) AS charges, count(*) FILTER (WHERE created_at <= $3) AS before FROM ledger_entries
          WHERE kind = 'charge' AND job_id = $1::text AND batch_id = $2`,
        [job.id, `batch-${hit.seq}`, hit.killedAt],
      );
      if (Number(rows[0].charges) !== agents.length || Number(rows[0].before) !== 0) chargeTxKillsUnconfirmed++;
    }
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

    // --- agent faults: one agent dies holding a batch, another loses the answer to its answer ----------
    // North's network drops the reply to its first answer: it resends the same sealed answer (as the
    // agent does from its pending store) and must be told it was already received, and be charged
    // once. East takes its first batch and dies: the batch is aggregated at its deadline with the
    // others, East uncharged; East never comes back. South answers everything.
    const [north, south, east] = agents;
    const faultJob = await api('POST', '/jobs', {
      taskId: task.id,
      mechanism: { kind: 'gnmax', sigma: 3 },
      participants,
      queries: 30,
      batchSize: 10,
      batchDeadlineMs: 3_000,
      minTeachers: 10,
      delta: 1e-5,
    });
    await api('POST', `/jobs/${faultJob.id}/start`);
    const votesFor = (batch: BatchAssignment): number[][] => batch.queries.map((q) => [0, 1, 2].map((c) => (c === q.features[0] ? 5 : 0)));
    let eastDied = false;
    let resent = 0;
    let alreadyReceived = 0;
    const answeredBy = new Map<string, Set<TestAgent>>();
    for (;;) {
      if (Date.now() - started > DEADLINE_MS) throw new Error('agent-fault phase ran out of time');
      const state = await api('GET', `/jobs/${faultJob.id}`);
      if (['completed', 'failed', 'cancelled'].includes(state.status)) break;
      for (const agent of eastDied ? [north, south] : [north, south, east]) {
        const batch = await agent.nextBatch().catch(() => null);
        if (!batch || batch.jobId !== faultJob.id) continue;
        const seen = answeredBy.get(batch.batchId) ?? new Set<TestAgent>();
        answeredBy.set(batch.batchId, seen);
        if (seen.has(agent)) continue;
        if (agent === east) {
          eastDied = true; // took the batch, never answers
          continue;
        }
        const body = agent.answerBody(batch, 5, votesFor(batch));
        const first = await agent.request('POST', `/agent/batches/${batch.batchId}/answers`, body);
        if (first.status >= 400) throw new Error(`agent-fault answer: ${first.status} ${await first.text()}`);
        if (agent === north && resent === 0) {
          // The reply is lost; the same sealed answer goes again.
          resent++;
          const again = await agent.request('POST', `/agent/batches/${batch.batchId}/answers`, body);
          const json = (await again.json()) as { status?: string };
          if (again.status < 300 && json.status === 'already_received') alreadyReceived++;
        }
        seen.add(agent);
      }
      await sleep(100);
    }
    const faultFinal = await api('GET', `/jobs/${faultJob.id}`);
    const faultCharges = await sql.query<{ institution_id: string; batch_id: string; n: string }>(
      `SELECT institution_id, batch_id, count(*) AS n FROM ledger_entries WHERE kind = 'charge' AND job_id = $1 GROUP BY 1, 2`,
      [faultJob.id],
    );
    const eastInstitution = (await sql.query<{ institution_id: string }>(`SELECT institution_id FROM agents WHERE id = $1`, [east.agentId]))
      .rows[0]?.institution_id;
    const agentFaults = {
      job_completed: faultFinal.status === 'completed',
      batches_released: faultFinal.released / 10,
      killed_mid_batch: eastDied ? 1 : 0,
      dead_agent_charges: faultCharges.rows.filter((r) => r.institution_id === eastInstitution).length,
      resends_after_lost_reply: resent,
      already_received: alreadyReceived,
      double_charges: faultCharges.rows.filter((r) => Number(r.n) > 1).length,
      charges_per_batch: [...new Set(faultCharges.rows.map((r) => r.batch_id))].map(
        (b) => faultCharges.rows.filter((r) => r.batch_id === b).length,
      ),
    };
    say(`agent faults: ${JSON.stringify(agentFaults)}`);

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
      kills_inside_charge_tx: insideKills.length,
      kills_inside_charge_tx_by_stage: Object.fromEntries(CHARGE_STAGES.map((st) => [st, insideKills.filter((k) => k === st).length])),
      charge_tx_kills_unconfirmed: chargeTxKillsUnconfirmed,
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
      agent_faults: agentFaults,
      wall_s: Math.round((Date.now() - started) / 1000),
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    const ok =
      result.kill_restarts === KILLS &&
      result.kills_inside_charge_tx >= 1 &&
      result.charge_tx_kills_unconfirmed === 0 &&
      result.ledger_verified &&
      result.uncharged_releases === 0 &&
      result.double_charges === 0 &&
      result.jobs_completed === 3 &&
      result.replica_double_releases === 0 &&
      result.replica_uncharged_releases === 0 &&
      !result.overspend &&
      result.http_5xx === 0 &&
      result.rows_changed_by_bad_input === 0 &&
      result.rbac_failures === 0 &&
      agentFaults.job_completed &&
      agentFaults.batches_released === 3 &&
      agentFaults.killed_mid_batch === 1 &&
      agentFaults.dead_agent_charges === 0 &&
      agentFaults.already_received === 1 &&
      agentFaults.double_charges === 0 &&
      agentFaults.charges_per_batch.length === 3 &&
      agentFaults.charges_per_batch.every((n) => n === 2);
    process.exitCode = ok ? 0 : 1;
  } finally {
    coordinator?.kill('SIGKILL');
    await sql.end().catch(() => undefined);
    await watchSql.end().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    await db.drop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`reliability: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
