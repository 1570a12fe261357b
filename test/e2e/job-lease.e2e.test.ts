import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { BATCH_LEASE_MS, BatchesService } from '../../apps/coordinator/src/jobs/batches.service';
import { JobsRepository } from '../../apps/coordinator/src/jobs/jobs.repository';
import { JobsSweeper } from '../../apps/coordinator/src/jobs/jobs.sweeper';
import { batchEvent } from '../../apps/coordinator/src/jobs/mechanism';
import { type ChargeRequest, LedgerService } from '../../apps/coordinator/src/ledger/ledger.service';
import { bearerApi } from '../../scripts/lib/local-server';
import { TestAgent } from '../support/agent-client';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Batch leases between coordinator processes: taken only when a batch is due, renewed while its
 * aggregation runs, and short, so that a dead process's lease holds its batch up for seconds only.
 * And the batched release: the batches charged in one ledger group are released together.
 */
describe('batch leases and batched release', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let sql: Client;
  let admin: string;
  let taskId: string;
  const institutions: string[] = [];
  const agents: TestAgent[] = [];

  const call = (method: string, path: string, body?: unknown): Promise<any> => bearerApi(running.baseUrl, admin)(method, path, body);

  /** A running gnmax job over both institutions; both must answer (5 teachers each, 10 required). */
  async function startJob(queries: number): Promise<string> {
    const job = await call('POST', '/jobs', {
      taskId,
      mechanism: { kind: 'gnmax', sigma: 1 },
      participants: institutions,
      queries,
      batchSize: 10,
      batchDeadlineMs: 60_000,
      minTeachers: 10,
      delta: 1e-5,
    });
    await call('POST', `/jobs/${job.id}/start`);
    return job.id as string;
  }

  /** The agent answers its next batch of `jobId`; returns the batch id. */
  async function answer(agent: TestAgent, jobId: string): Promise<string> {
    const batch = await agent.nextBatch();
    expect(batch?.jobId).toBe(jobId);
    const res = await agent.answer(
      batch!,
      5,
      batch!.queries.map((q) => (q.features[0] === 1 ? [0, 5] : [5, 0])),
    );
    expect(res.status).toBe(202);
    return batch!.batchId;
  }

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(50)) {
      const value = await probe();
      if (value !== undefined) return value;
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  const batchRow = async (batchId: string): Promise<{ status: string; lease_owner: string | null; lease_until: Date | null }> =>
    (await sql.query(`SELECT status, lease_owner, lease_until FROM batches WHERE id = $1`, [batchId])).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
    const coordinatorKey = (await call('GET', '/agents/coordinator')).signingPublicKey as string;
    for (const name of ['A', 'B']) {
      const inst = await call('POST', '/institutions', { name, epsilonCap: 1000, delta: 1e-5 });
      institutions.push(inst.id);
      const agent = new TestAgent(running.baseUrl);
      await agent.enroll((await call('POST', `/institutions/${inst.id}/enrollment-tokens`, {})).token, coordinatorKey);
      agents.push(agent);
    }
    const task = await call('POST', '/tasks', {
      name: 'lease',
      inputSpec: { kind: 'tabular', features: [{ name: 'x' }] },
      classes: ['a', 'b'],
    });
    taskId = task.id;
    await call('POST', `/tasks/${taskId}/pool`, { split: 'public', examples: Array.from({ length: 30 }, (_, i) => [i % 2]) });
    // Every lease taken, with whether its batch was due at that moment.
    await sql.query(`CREATE TABLE lease_log (batch_id uuid, owner text, answers int, participants int, past_deadline boolean)`);
    await sql.query(`CREATE FUNCTION log_lease() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.lease_owner IS NOT NULL AND NEW.lease_owner IS DISTINCT FROM OLD.lease_owner THEN
          INSERT INTO lease_log SELECT NEW.id, NEW.lease_owner,
            (SELECT count(*) FROM submissions s WHERE s.batch_id = NEW.id AND s.attempt = NEW.attempt),
            (SELECT count(*) FROM job_participants p WHERE p.job_id = NEW.job_id AND p.status = 'active'),
            NEW.deadline_at <= now();
        END IF;
        RETURN NEW;
      END $$`);
    await sql.query(`CREATE TRIGGER batches_lease_log BEFORE UPDATE ON batches FOR EACH ROW EXECUTE FUNCTION log_lease()`);
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    await sql?.end();
    await running?.close();
    await db?.close();
  });

  it('leases a batch only once it is due: an answer to an incomplete batch takes no lease', async () => {
    const jobId = await startJob(30);
    for (let seq = 1; seq <= 3; seq++) {
      const batchId = await answer(agents[0], jobId);
      await sleep(300);
      expect(await batchRow(batchId)).toMatchObject({ status: 'open', lease_owner: null, lease_until: null });
      const answeredAt = Date.now();
      await answer(agents[1], jobId);
      await until('the batch released', async () => ((await batchRow(batchId)).status === 'released' ? true : undefined));
      expect(Date.now() - answeredAt).toBeLessThan(BATCH_LEASE_MS);
      // The owner gives its lease up once it is done (just after the release commits).
      await until('the lease given up', async () => ((await batchRow(batchId)).lease_owner === null ? true : undefined));
    }
    expect((await call('GET', `/jobs/${jobId}`)).status).toBe('completed');
    const leases = (await sql.query(`SELECT l.* FROM lease_log l JOIN batches b ON b.id = l.batch_id WHERE b.job_id = $1`, [jobId])).rows;
    expect(leases.length).toBeGreaterThanOrEqual(3);
    for (const l of leases) expect(l.past_deadline || l.answers >= l.participants, JSON.stringify(l)).toBe(true);
  });

  it('a process that dies mid-aggregation holds its batch up for one short lease, not a minute', async () => {
    // A second coordinator process on the same database (same keys, as replicas have).
    const other = await startTestApp(db.url, { ledgerKeyFile: running.config.ledgerKeyFile, boxKeyFile: running.config.boxKeyFile });
    const sweeper = running.app.get(JobsSweeper);
    let stuck = (): void => undefined;
    try {
      // It takes the batch and hangs before charging; this process's sweeper is driven by hand.
      sweeper.onApplicationShutdown();
      let entered = false;
      vi.spyOn(other.app.get(LedgerService), 'chargeAndRelease').mockImplementation(() => {
        entered = true;
        return new Promise((_, reject) => (stuck = () => reject(new Error('the process died')))) as never;
      });
      const jobId = await startJob(10);
      const batchId = await answer(agents[0], jobId);
      agents[1].baseUrl = other.baseUrl;
      await answer(agents[1], jobId);
      await until('the other process charging', () => Promise.resolve(entered ? true : undefined));
      expect((await batchRow(batchId)).lease_owner).not.toBeNull();
      // It dies: its connections go, nothing renews or gives up its lease.
      await other.close();
      const diedAt = Date.now();
      await until('the batch released here', async () => {
        await sweeper.sweep();
        return (await batchRow(batchId)).status === 'released' ? true : undefined;
      });
      expect(Date.now() - diedAt).toBeLessThan(BATCH_LEASE_MS + 2_000);
      expect((await call('GET', `/jobs/${jobId}`)).status).toBe('completed');
    } finally {
      agents[1].baseUrl = running.baseUrl;
      stuck();
      sweeper.onApplicationBootstrap();
      await other.close().catch(() => undefined);
    }
  });

  it('renews the lease while the aggregation runs: no other process can take the batch meanwhile', async () => {
    const ledger = running.app.get(LedgerService);
    const repository = running.app.get(JobsRepository);
    const original = ledger.chargeAndRelease.bind(ledger);
    let entered = false;
    const spy = vi.spyOn(ledger, 'chargeAndRelease').mockImplementationOnce(async (request) => {
      entered = true;
      // An aggregation that takes two leases' time before it charges.
      await sleep(2 * BATCH_LEASE_MS);
      return original(request);
    });
    const jobId = await startJob(10);
    const batchId = await answer(agents[0], jobId);
    await answer(agents[1], jobId);
    await until('the charge', () => Promise.resolve(entered ? true : undefined));
    for (let i = 0; i < 3; i++) {
      await sleep(BATCH_LEASE_MS / 2 + 200);
      const row = await batchRow(batchId);
      expect(row.status).toBe('open');
      expect(row.lease_owner).not.toBeNull();
      expect(row.lease_until!.getTime()).toBeGreaterThan(Date.now());
      expect(await repository.claimBatch(batchId, 'another-process', BATCH_LEASE_MS)).toBe(false);
    }
    await until('the job completed', async () => ((await call('GET', `/jobs/${jobId}`)).status === 'completed' ? true : undefined));
    await until('the lease given up', async () => ((await batchRow(batchId)).lease_owner === null ? true : undefined));
    expect(await batchRow(batchId)).toMatchObject({ status: 'released', lease_owner: null, lease_until: null });
    spy.mockRestore();
  });

  it('releases the batches of one ledger group together; a failed release is that batch’s alone', async () => {
    const ledger = running.app.get(LedgerService);
    const batches = running.app.get(BatchesService);
    const original = ledger.chargeAndRelease.bind(ledger);
    const releaser = (batches as unknown as { releaser: { releaseAll: (...args: unknown[]) => Promise<unknown[]> } }).releaser;
    const sizes: number[] = [];
    const releaseAll = releaser.releaseAll;
    const releaseSpy = vi.spyOn(releaser, 'releaseAll').mockImplementation((scope, items) => {
      sizes.push((items as unknown[]).length);
      return releaseAll(scope, items);
    });
    // The two jobs' charges are held until both have arrived, then sent together behind a third
    // call, so that the ledger decides them in one group.
    const held: { request: ChargeRequest<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
    const spy = vi
      .spyOn(ledger, 'chargeAndRelease')
      .mockImplementation((request) => new Promise((resolve, reject) => void held.push({ request, resolve, reject })) as never);
    const kept = await startJob(10);
    const cancelled = await startJob(10);
    for (const jobId of [kept, cancelled]) for (const agent of agents) await answer(agent, jobId);
    await until('both charges', () => Promise.resolve(held.length === 2 ? true : undefined));
    spy.mockRestore();
    // One of them fails in the release step: its job was cancelled meanwhile.
    await call('POST', `/jobs/${cancelled}/cancel`);
    const hold = original({
      jobId: 'hold',
      batchId: 'hold-1',
      charges: [{ institutionId: institutions[0], event: batchEvent({ kind: 'gnmax', sigma: 50 }, 1, 1) }],
      release: () => Promise.resolve(null),
    });
    for (const h of held) original(h.request).then(h.resolve, h.reject);
    await hold;
    await until('the kept job completed', async () => ((await call('GET', `/jobs/${kept}`)).status === 'completed' ? true : undefined));
    releaseSpy.mockRestore();
    // Both in one releaseAll; it failed for the cancelled job, and each was then released alone.
    expect(sizes).toEqual([2, 1, 1]);
    expect((await call('GET', `/jobs/${kept}/labels`)).length).toBe(10);
    expect((await call('GET', `/jobs/${cancelled}`)).status).toBe('cancelled');
    expect((await call('GET', `/jobs/${cancelled}/labels`)).length).toBe(0);
    const charges = async (jobId: string): Promise<number> =>
      Number((await sql.query(`SELECT count(*) AS c FROM ledger_entries WHERE job_id = $1`, [jobId])).rows[0].c);
    expect(await charges(kept)).toBe(2);
    expect(await charges(cancelled)).toBe(0);
    expect((await call('GET', '/ledger/verification')).verified).toBe(true);
  });
});
