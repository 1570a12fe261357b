import { DPA_ORDERS, epsilonFromRdp, epsilonOfGaussianDp, gnmaxEvent, rdpOfEvent, type DpEvent } from '@concord/privacy';
import { InstitutionsRepository } from '../../apps/coordinator/src/institutions/institutions.repository';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BatchReleaser, type ChargeOutcome, releaseWith } from '../../apps/coordinator/src/ledger/ledger.service';
import { chargesForBatchesSql } from '../../apps/coordinator/src/ledger/ledger.repository';
import { verifyLedger } from '../../apps/coordinator/src/ledger/verify-ledger';
import { ADMIN, createLedgerHarness, type LedgerHarness } from '../support/ledger';

const kind = process.env.DATABASE_URL ? 'Postgres' : 'PGlite';

/**
 * ε of `queries` GNMax answers at σ, by hand: each is a Gaussian mechanism of sensitivity √2
 * (data-independent), so together they are exactly μ-GDP with μ² = 2·queries/σ², and budgets
 * convert exactly (analytic Gaussian).
 */
function handEpsilon(queries: number, sigma: number, delta: number): number {
  return epsilonOfGaussianDp(Math.sqrt((2 * queries) / (sigma * sigma)), delta);
}

describe(`privacy ledger (${kind})`, () => {
  let h: LedgerHarness;
  let n = 0;

  beforeAll(async () => {
    // 64 connections on Postgres so that the 64 spenders really run concurrently; PGlite serialises transactions anyway.
    h = await createLedgerHarness(process.env.DATABASE_URL ? 66 : 30);
    await h.dataSource.query(`CREATE TABLE test_released (job_id text, batch_id text, label int)`);
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    n += 1;
  });

  async function institution(epsilonCap: number, delta = 1e-6): Promise<string> {
    const inst = await h.institutions.create({ name: `inst-${n}-${Math.random().toString(36).slice(2)}`, epsilonCap, delta }, ADMIN);
    return inst.id;
  }

  function release(jobId: string, batchId: string, calls: { count: number }) {
    return async (scope: { query: (sql: string, p?: unknown[]) => Promise<unknown[]> }) => {
      calls.count += 1;
      await scope.query(`INSERT INTO test_released (job_id, batch_id, label) VALUES ($1, $2, 7)`, [jobId, batchId]);
      return 'released';
    };
  }

  async function releasedRows(jobId: string): Promise<number> {
    const rows = await h.dataSource.query<{ c: string }[]>(`SELECT count(*) AS c FROM test_released WHERE job_id = $1`, [jobId]);
    return Number(rows[0].c);
  }

  it('opens a budget with a signed first entry and nothing spent', async () => {
    const id = await institution(3);
    const budget = await h.ledger.getBudget(id);
    expect(budget).toMatchObject({
      epsilonCap: 3,
      delta: 1e-6,
      epsilonSpent: 0,
      epsilonRemaining: 3,
      entries: 1,
      accountant: 'rdp',
      conversion: 'analytic_gaussian',
      optimalOrder: null,
    });
    const { entries } = await h.ledger.listEntries(id, 0, 10);
    expect(entries.map((e) => e.kind)).toEqual(['budget_opened']);
  });

  it('charges, releases in the same transaction, and reports ε spent as the accountant computes it by hand', async () => {
    const a = await institution(5);
    const b = await institution(5);
    const calls = { count: 0 };
    const event = gnmaxEvent(40, 100);
    const outcome = await h.ledger.chargeAndRelease({
      jobId: `job-${n}`,
      batchId: '1',
      charges: [a, b].map((institutionId) => ({ institutionId, event })),
      release: release(`job-${n}`, '1', calls),
    });
    expect(outcome.status).toBe('charged');
    expect(calls.count).toBe(1);
    expect(await releasedRows(`job-${n}`)).toBe(1);
    const expected = handEpsilon(100, 40, 1e-6);
    for (const id of [a, b]) {
      const budget = await h.ledger.getBudget(id);
      expect(budget.epsilonSpent).toBeCloseTo(expected, 12);
      expect(budget.epsilonRemaining).toBeCloseTo(5 - expected, 12);
      expect(budget.entries).toBe(2);
    }
  });

  it('refuses the whole batch before release when any participant would exceed its cap', async () => {
    const rich = await institution(100);
    const poor = await institution(handEpsilon(100, 40, 1e-6) * 0.99);
    const calls = { count: 0 };
    const outcome = await h.ledger.chargeAndRelease({
      jobId: `job-${n}`,
      batchId: '1',
      charges: [rich, poor].map((institutionId) => ({ institutionId, event: gnmaxEvent(40, 100) })),
      release: release(`job-${n}`, '1', calls),
    });
    expect(outcome.status).toBe('refused');
    if (outcome.status === 'refused') {
      expect(outcome.refusals.map((r) => r.institutionId)).toEqual([poor]);
      expect(outcome.refusals[0].reason).toBe('cap_exceeded');
    }
    expect(calls.count).toBe(0);
    expect(await releasedRows(`job-${n}`)).toBe(0);
    for (const id of [rich, poor]) {
      const budget = await h.ledger.getBudget(id);
      expect(budget.epsilonSpent).toBe(0);
      expect(budget.entries).toBe(1);
    }
  });

  it('rolls the charge back when the release step fails', async () => {
    const id = await institution(10);
    await expect(
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: '1',
        charges: [{ institutionId: id, event: gnmaxEvent(40, 10) }],
        release: async (scope) => {
          await scope.query(`INSERT INTO test_released (job_id, batch_id, label) VALUES ($1, '1', 1)`, [`job-${n}`]);
          throw new Error('label store unavailable');
        },
      }),
    ).rejects.toThrow('label store unavailable');
    expect(await releasedRows(`job-${n}`)).toBe(0);
    expect((await h.ledger.getBudget(id)).entries).toBe(1);
  });

  it('isolates a failing release step from the other calls decided in the same group', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => institution(10)));
    const results = await Promise.allSettled(
      ids.map((institutionId, k) =>
        h.ledger.chargeAndRelease({
          jobId: `job-${n}`,
          batchId: String(k),
          charges: [{ institutionId, event: gnmaxEvent(40, 10) }],
          release: async (scope) => {
            await scope.query(`INSERT INTO test_released (job_id, batch_id, label) VALUES ($1, $2, 1)`, [`job-${n}`, String(k)]);
            if (k === 2) throw new Error('this caller fails');
            return k;
          },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(await releasedRows(`job-${n}`)).toBe(4);
    const entries = await Promise.all(ids.map(async (id) => (await h.ledger.getBudget(id)).entries));
    expect(entries).toEqual([2, 2, 1, 2, 2]);
  });

  it('is idempotent per (job, batch, institution): retries, even concurrent ones, charge once', async () => {
    const a = await institution(10);
    const b = await institution(10);
    const calls = { count: 0 };
    const charge = (): Promise<ChargeOutcome<string>> =>
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: '7',
        charges: [a, b].map((institutionId) => ({ institutionId, event: gnmaxEvent(40, 50) })),
        release: release(`job-${n}`, '7', calls),
      });
    const outcomes = await Promise.all(Array.from({ length: 8 }, charge));
    const again = await charge();
    expect(outcomes.filter((o) => o.status === 'charged' && !o.replayed)).toHaveLength(1);
    expect([...outcomes, again].every((o) => o.status === 'charged')).toBe(true);
    expect(again).toMatchObject({ status: 'charged', replayed: true });
    expect(calls.count).toBe(1);
    expect(await releasedRows(`job-${n}`)).toBe(1);
    expect((await h.ledger.getBudget(a)).entries).toBe(2);
    expect((await h.ledger.getBudget(a)).epsilonSpent).toBeCloseTo(handEpsilon(50, 40, 1e-6), 12);
  });

  it('refuses malformed and unsupported events by field, before touching anything', async () => {
    const id = await institution(10);
    const bad = (event: unknown) =>
      h.ledger.chargeAndRelease({
        jobId: 'j',
        batchId: 'b',
        charges: [{ institutionId: id, event: event as DpEvent }],
        release: () => Promise.resolve(0),
      });
    await expect(bad({ kind: 'gnmax', sigma: -1, queries: 3 })).rejects.toMatchObject({
      errors: [expect.objectContaining({ field: 'charges[0].event' })],
    });
    await expect(bad({ kind: 'unsupported', description: 'laplace' })).rejects.toMatchObject({ status: 400 });
    expect((await h.ledger.getBudget(id)).entries).toBe(1);
  });

  it('refuses an event that is not a composition of Gaussian mechanisms on an exact budget, writing nothing', async () => {
    const id = await institution(10);
    const calls = { count: 0 };
    const sampled: DpEvent = { kind: 'poisson_sampled', samplingProbability: 0.01, event: { kind: 'gaussian', noiseMultiplier: 1.1 } };
    await expect(
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: '1',
        charges: [{ institutionId: id, event: sampled }],
        release: release(`job-${n}`, '1', calls),
      }),
    ).rejects.toMatchObject({ status: 422 });
    expect(calls.count).toBe(0);
    expect(await h.ledger.getBudget(id)).toMatchObject({ entries: 1, epsilonSpent: 0 });
  });

  it('keeps the improved RDP conversion for a budget opened with it (as before the exact one), and verifies both', async () => {
    const old = await h.ledger.inTransaction(async (tx) => {
      const inst = await new InstitutionsRepository(h.dataSource).insert(tx, `legacy-improved-${n}`);
      await h.ledger.openBudget(tx, {
        institutionId: inst!.id,
        epsilonCap: 10,
        delta: 1e-6,
        actor: ADMIN,
        reason: 'opened as before',
        conversion: 'improved',
      });
      return inst!.id;
    });
    const exact = await institution(10);
    const sampled: DpEvent = { kind: 'poisson_sampled', samplingProbability: 0.01, event: { kind: 'gaussian', noiseMultiplier: 1.1 } };
    for (const [batch, event] of [
      ['1', gnmaxEvent(40, 100)],
      ['2', sampled],
    ] as const) {
      const outcome = await h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: batch,
        charges: [{ institutionId: old, event }],
        release: () => Promise.resolve(0),
      });
      expect(outcome.status).toBe('charged');
    }
    await h.ledger.chargeAndRelease({
      jobId: `job-${n}`,
      batchId: '3',
      charges: [{ institutionId: exact, event: gnmaxEvent(40, 100) }],
      release: () => Promise.resolve(0),
    });
    const total = DPA_ORDERS.map((a, k) => (100 * a) / 1600 + rdpOfEvent(sampled, DPA_ORDERS)[k]);
    const oldBudget = await h.ledger.getBudget(old);
    expect(oldBudget.conversion).toBe('improved');
    expect(oldBudget.epsilonSpent).toBeCloseTo(epsilonFromRdp(DPA_ORDERS, total, 1e-6).epsilon, 12);
    expect(oldBudget.optimalOrder).toBe(epsilonFromRdp(DPA_ORDERS, total, 1e-6).optimalOrder);
    // The same GNMax batch costs less, exactly, on the exact budget.
    expect((await h.ledger.getBudget(exact)).epsilonSpent).toBeCloseTo(handEpsilon(100, 40, 1e-6), 12);
    expect(handEpsilon(100, 40, 1e-6)).toBeLessThan(
      epsilonFromRdp(
        DPA_ORDERS,
        DPA_ORDERS.map((a) => (100 * a) / 1600),
        1e-6,
      ).epsilon,
    );
    expect((await verifyLedger(h.repository, h.keyPair.publicKey)).problems).toEqual([]);
  });

  it('records cap changes with who and why, and refuses lowering below what is spent', async () => {
    const id = await institution(5);
    await h.ledger.chargeAndRelease({
      jobId: `job-${n}`,
      batchId: '1',
      charges: [{ institutionId: id, event: gnmaxEvent(20, 100) }],
      release: () => Promise.resolve(0),
    });
    const spent = (await h.ledger.getBudget(id)).epsilonSpent;
    await expect(h.ledger.changeCap(id, spent / 2, 'mistake', ADMIN)).rejects.toMatchObject({
      errors: [expect.objectContaining({ field: 'epsilonCap' })],
    });
    await expect(h.ledger.changeCap(id, 8, '', ADMIN)).rejects.toMatchObject({ errors: [expect.objectContaining({ field: 'reason' })] });
    await h.ledger.changeCap(id, 8, 'board approval 14', ADMIN);
    const { entries } = await h.ledger.listEntries(id, 0, 10);
    expect(entries.map((e) => e.kind)).toEqual(['budget_opened', 'charge', 'budget_changed']);
    expect(entries[2].details).toMatchObject({ actor: ADMIN, reason: 'board approval 14', epsilonCapBefore: 5, epsilonCapAfter: 8 });
    expect((await h.ledger.getBudget(id)).epsilonCap).toBe(8);
  });

  it('has a database that refuses UPDATE, DELETE and TRUNCATE of ledger entries', async () => {
    await institution(1);
    await expect(h.dataSource.query(`UPDATE ledger_entries SET epsilon_spent = 0`)).rejects.toThrow(/append-only/);
    await expect(h.dataSource.query(`DELETE FROM ledger_entries`)).rejects.toThrow(/append-only/);
    await expect(h.dataSource.query(`TRUNCATE ledger_entries CASCADE`)).rejects.toThrow(/append-only/);
  });

  it('never overspends under 64 concurrent spenders on overlapping institutions', async () => {
    const sigma = 30;
    const perCharge = handEpsilon(20, sigma, 1e-6);
    const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((k) => institution(perCharge * (2 + k))));
    const accepted = new Map(ids.map((id) => [id, 0]));
    const refusedBy = new Set<string>();
    let refused = 0;
    let attempt = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, spender) => {
        for (let i = 0; i < 4; i++) {
          const k = attempt++;
          // Overlapping participant sets: 2 or 3 of the 6 institutions, different per attempt.
          const set = [ids[k % 6], ids[(k * 7 + spender) % 6], ids[(k + 3) % 6]].filter((v, j, a) => a.indexOf(v) === j);
          const outcome = await h.ledger.chargeAndRelease({
            jobId: `job-${n}-${spender}`,
            batchId: String(i),
            charges: set.map((institutionId) => ({ institutionId, event: gnmaxEvent(sigma, 20) })),
            release: () => Promise.resolve(0),
          });
          if (outcome.status === 'charged') set.forEach((id) => accepted.set(id, (accepted.get(id) ?? 0) + 1));
          else {
            refused += 1;
            outcome.refusals.forEach((r) => refusedBy.add(r.institutionId));
          }
        }
      }),
    );
    expect(refused).toBeGreaterThan(0);
    for (const id of ids) {
      const budget = await h.ledger.getBudget(id);
      expect(budget.epsilonSpent).toBeLessThanOrEqual(budget.epsilonCap);
      expect(budget.entries).toBe(1 + (accepted.get(id) ?? 0));
      expect(budget.epsilonSpent).toBeCloseTo(handEpsilon(20 * (accepted.get(id) ?? 0), sigma, 1e-6), 9);
      // Refused only when one more charge really would not fit: the filter is exact, not merely safe.
      if (refusedBy.has(id)) expect(handEpsilon(20 * ((accepted.get(id) ?? 0) + 1), sigma, 1e-6)).toBeGreaterThan(budget.epsilonCap);
    }
    const report = await verifyLedger(h.repository, h.keyPair.publicKey);
    expect(report.problems).toEqual([]);
  });

  /** Writes every item's label in one INSERT; refuses the whole batch if any item is poisoned. */
  function batchReleaser(log: number[]): BatchReleaser<{ jobId: string; batchId: string; poisoned?: boolean }, string> {
    return {
      async releaseAll(scope, items) {
        log.push(items.length);
        if (items.some((i) => i.poisoned)) throw new Error('release refused');
        await scope.query(
          `INSERT INTO test_released (job_id, batch_id, label) SELECT j, b, 7 FROM unnest($1::text[], $2::text[]) AS t(j, b)`,
          [items.map((i) => i.jobId), items.map((i) => i.batchId)],
        );
        return items.map((i) => `released ${i.batchId}`);
      },
    };
  }

  it('releases a group of batched calls with one releaseAll, each call getting its own result', async () => {
    const a = await institution(50);
    const log: number[] = [];
    const releaser = batchReleaser(log);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        h.ledger.chargeAndRelease({
          jobId: `job-${n}`,
          batchId: String(i),
          charges: [{ institutionId: a, event: gnmaxEvent(40, 20) }],
          release: releaseWith(releaser, { jobId: `job-${n}`, batchId: String(i) }),
        }),
      ),
    );
    expect(outcomes.map((o) => (o.status === 'charged' && !o.replayed ? o.released : o.status))).toEqual(
      Array.from({ length: 12 }, (_, i) => `released ${i}`),
    );
    // Every call was released exactly once, and at least one releaseAll wrote several calls at once.
    expect(log.reduce((x, y) => x + y, 0)).toBe(12);
    expect(Math.max(...log)).toBeGreaterThan(1);
    expect(await releasedRows(`job-${n}`)).toBe(12);
    expect((await h.ledger.getBudget(a)).entries).toBe(13);
  });

  it('charges nothing for a call whose batched release fails, and charges and releases the rest of its group', async () => {
    const a = await institution(50);
    const b = await institution(50);
    const log: number[] = [];
    const releaser = batchReleaser(log);
    const charge = (i: number, poisoned = false) =>
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: String(i),
        charges: [a, b].map((institutionId) => ({ institutionId, event: gnmaxEvent(40, 20) })),
        release: releaseWith(releaser, { jobId: `job-${n}`, batchId: String(i), poisoned }),
      });
    // A first call holds the group lock, so the next ten are decided together in one group.
    const results = await Promise.allSettled([charge(0), ...Array.from({ length: 10 }, (_, k) => charge(k + 1, k === 4))]);
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 11 }, (_, k) => (k === 5 ? 'rejected' : 'fulfilled')));
    expect((results[5] as PromiseRejectedResult).reason).toMatchObject({ message: 'release refused' });
    expect(await releasedRows(`job-${n}`)).toBe(10);
    const { entries } = await h.ledger.listEntries(a, 0, 20);
    expect(
      entries
        .filter((e) => e.kind === 'charge')
        .map((e) => Number(e.batchId))
        .sort((x, y) => x - y),
    ).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect((await h.ledger.getBudget(b)).epsilonSpent).toBeCloseTo(handEpsilon(20 * 10, 40, 1e-6), 12);
    // The failed group was run again call by call: one call alone per item after the failure.
    expect(log.filter((x) => x === 1).length).toBeGreaterThanOrEqual(10);
    expect((await verifyLedger(h.repository, h.keyPair.publicKey)).problems).toEqual([]);
  });

  it('refuses ids the database cannot hold or that name no institution, by field, before touching anything', async () => {
    const a = await institution(5);
    const call = (jobId: string, batchId: string, institutionId: string) =>
      h.ledger.chargeAndRelease({
        jobId,
        batchId,
        charges: [{ institutionId, event: gnmaxEvent(40, 20) }],
        release: () => Promise.resolve(0),
      });
    await expect(call('job\u0000x', '1', a)).rejects.toMatchObject({ status: 400, errors: [expect.objectContaining({ field: 'jobId' })] });
    await expect(call(`job-${n}`, "1'\u0000", a)).rejects.toMatchObject({ errors: [expect.objectContaining({ field: 'batchId' })] });
    await expect(call(`job-${n}`, '1', "x'); DROP TABLE ledger_entries; --")).rejects.toMatchObject({
      errors: [expect.objectContaining({ field: 'charges[0].institutionId' })],
    });
    // Quotes and backslashes in ids are data, not SQL: charged and found again as such.
    const odd = `job-${n} 'quoted' \\ back\\slash`;
    const first = await call(odd, "b'1", a);
    expect(first.status).toBe('charged');
    const again = await call(odd, "b'1", a);
    expect(again).toMatchObject({ status: 'charged', replayed: true });
    expect((await h.ledger.getBudget(a)).entries).toBe(2);
  });

  it('refuses a release step that is neither a function nor a batch release', async () => {
    const a = await institution(5);
    await expect(
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: '1',
        charges: [{ institutionId: a, event: gnmaxEvent(40, 20) }],
        release: { releaser: {}, item: 1 } as never,
      }),
    ).rejects.toMatchObject({ errors: [expect.objectContaining({ field: 'release' })] });
  });

  it('decides a waiting group ahead only on the rows it will lock: an entry appended in between is respected', async () => {
    const perCharge = handEpsilon(20, 40, 1e-6);
    const a = await institution(perCharge * 100);
    const calls = { count: 0 };
    // Many calls in flight, so later groups are decided ahead while earlier ones commit.
    const first = Array.from({ length: 40 }, (_, i) =>
      h.ledger.chargeAndRelease({
        jobId: `job-${n}`,
        batchId: `a${i}`,
        charges: [{ institutionId: a, event: gnmaxEvent(40, 20) }],
        release: release(`job-${n}`, `a${i}`, calls),
      }),
    );
    // Meanwhile, outside the group queue, a cap change appends an entry between two groups: a group
    // decided ahead on the rows before it would reuse its seq and prevHash, so it must be decided again.
    const lowered = h.ledger.changeCap(a, perCharge * 90, 'lowered by the board', ADMIN);
    const outcomes = await Promise.all(first);
    await lowered;
    expect(outcomes.every((o) => o.status === 'charged')).toBe(true);
    const budget = await h.ledger.getBudget(a);
    expect(budget.entries).toBe(1 + 40 + 1);
    expect(budget.epsilonSpent).toBeCloseTo(handEpsilon(20 * 40, 40, 1e-6), 12);
    expect((await verifyLedger(h.repository, h.keyPair.publicKey)).problems).toEqual([]);
  });

  it('redecides the next group, already opened behind a commit, when that commit fails', async () => {
    // A group's successor opens as soon as the group's COMMIT is sent, on a decision made ahead on
    // the rows that commit would leave. Here one release step breaks a deferred constraint, so its
    // group's COMMIT fails: the successor must decide again on the rows it actually locked.
    await h.dataSource.query(`CREATE TABLE IF NOT EXISTS test_parent (id int PRIMARY KEY)`);
    await h.dataSource.query(`INSERT INTO test_parent (id) VALUES (1) ON CONFLICT DO NOTHING`);
    await h.dataSource.query(
      `CREATE TABLE IF NOT EXISTS test_deferred (parent int REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
    );
    const perCharge = handEpsilon(20, 40, 1e-6);
    const a = await institution(perCharge * 100);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, k) =>
        h.ledger.chargeAndRelease({
          jobId: `job-${n}`,
          batchId: String(k),
          charges: [{ institutionId: a, event: gnmaxEvent(40, 20) }],
          release: async (scope) => {
            await scope.query(`INSERT INTO test_released (job_id, batch_id, label) VALUES ($1, $2, 1)`, [`job-${n}`, String(k)]);
            // Checked only at COMMIT.
            await scope.query(`INSERT INTO test_deferred (parent) VALUES ($1)`, [k === 5 ? -1 : 1]);
            return k;
          },
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[5].status).toBe('rejected');
    expect(String((results[5] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    expect(await releasedRows(`job-${n}`)).toBe(39);
    const budget = await h.ledger.getBudget(a);
    expect(budget.entries).toBe(1 + 39);
    expect(budget.epsilonSpent).toBeCloseTo(handEpsilon(20 * 39, 40, 1e-6), 12);
    expect((await verifyLedger(h.repository, h.keyPair.publicKey)).problems).toEqual([]);
  });

  it("looks up a group's stored charges by one index probe per batch, whatever the planner would prefer", async () => {
    // The lookup runs in every charge transaction, so its cost must not grow with the ledger. With
    // nested loops discouraged (as stale statistics discourage them), a plain join of the batches
    // against the charges becomes a scan of every charge; the lookup must still probe the index.
    const plan = await h.dataSource.transaction(async (m) => {
      await m.query('SET LOCAL enable_nestloop = off');
      const rows = await m.query<{ 'QUERY PLAN': string }[]>(
        `EXPLAIN ${chargesForBatchesSql(`ARRAY['job-a','job-b']::text[]`, `ARRAY['1','2']::text[]`)}`,
      );
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toMatch(/Index Cond: \(\(job_id = b\.job_id\) AND \(batch_id = b\.batch_id\)\)/);
    expect(plan).not.toMatch(/Hash Join|Merge Join/);
  });
});
