import { spawnSync } from 'node:child_process';
import { bytesToBase64, generateSigningKeyPair, hashEntry, signEntryHash } from '@concord/crypto';
import { gnmaxEvent } from '@concord/privacy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger, type LedgerVerificationReport } from '../../apps/coordinator/src/ledger/verify-ledger';
import { ADMIN, createLedgerHarness, type LedgerHarness } from '../support/ledger';
import { COORDINATOR_MAIN, assertBuilt } from '../support/process';

const kind = process.env.DATABASE_URL ? 'Postgres' : 'PGlite';
const VERIFY_CLI = COORDINATOR_MAIN.replace(/main\.js$/, 'cli/ledger-verify.js');

describe(`ledger:verify detects tampering (${kind})`, () => {
  let h: LedgerHarness;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    h = await createLedgerHarness(4);
    for (const name of ['event', 'order', 'deleted', 'orders', 'conversion', 'cache', 'forged', 'moved', 'intact']) {
      ids[name] = (await h.institutions.create({ name: `tamper-${name}`, epsilonCap: 50, delta: 1e-5 }, ADMIN)).id;
      for (let batch = 1; batch <= 3; batch++) {
        const outcome = await h.ledger.chargeAndRelease({
          jobId: `job-${name}`,
          batchId: String(batch),
          charges: [{ institutionId: ids[name], event: gnmaxEvent(30 + batch, 10 * batch) }],
          release: () => Promise.resolve(null),
        });
        expect(outcome.status).toBe('charged');
      }
    }
    // Two institutions charged together: each call's two entries are signed as one group.
    for (const name of ['pairA', 'pairB']) {
      ids[name] = (await h.institutions.create({ name: `tamper-${name}`, epsilonCap: 50, delta: 1e-5 }, ADMIN)).id;
    }
    for (let batch = 1; batch <= 3; batch++) {
      const outcome = await h.ledger.chargeAndRelease({
        jobId: 'job-pair',
        batchId: String(batch),
        charges: [ids.pairA, ids.pairB].map((institutionId) => ({ institutionId, event: gnmaxEvent(40, 10) })),
        release: () => Promise.resolve(null),
      });
      expect(outcome.status).toBe('charged');
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  function runCli(): { code: number | null; report: LedgerVerificationReport } {
    const run = spawnSync(process.execPath, [VERIFY_CLI, '--public-key', bytesToBase64(h.keyPair.publicKey)], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: h.db.url, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    return { code: run.status, report: JSON.parse(lines[0]) as LedgerVerificationReport };
  }

  async function tamper(sql: string, params: unknown[] = []): Promise<void> {
    // What an attacker with the database owner's rights would have to do: switch the guard off.
    await h.dataSource.query(`ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_no_update_delete`);
    try {
      await h.dataSource.query(sql, params);
    } finally {
      await h.dataSource.query(`ALTER TABLE ledger_entries ENABLE TRIGGER ledger_entries_no_update_delete`);
    }
  }

  function problemsOf(report: LedgerVerificationReport, name: string): string[] {
    return report.problems.filter((p) => p.institutionId === ids[name]).map((p) => p.problem);
  }

  it('passes an untouched ledger, in-process and through `ledger:verify`', async () => {
    const report = await verifyLedger(h.repository, h.keyPair.publicKey);
    expect(report).toEqual({ institutions: 11, entries: 44, verified: true, problems: [] });
    const grouped = await h.dataSource.query<{ n: string; digests: string }[]>(
      `SELECT count(*) AS n, count(DISTINCT group_digest) AS digests FROM ledger_entries WHERE institution_id = ANY($1::uuid[]) AND kind = 'charge'`,
      [[ids.pairA, ids.pairB]],
    );
    expect(grouped[0]).toEqual({ n: '6', digests: '3' }); // one signature per call, shared by its two entries
    const cli = runCli();
    expect(cli.code).toBe(0);
    expect(cli.report).toEqual(report);
  });

  it('reports each kind of tampering against the institution it hit, and exits non-zero', async () => {
    // A changed event (σ 32 → 64 makes the charge look four times cheaper).
    await tamper(`UPDATE ledger_entries SET event = jsonb_set(event, '{sigma}', '64') WHERE institution_id = $1 AND seq = 3`, [ids.event]);
    // A changed order: entries 2 and 3 swap places.
    await tamper(`UPDATE ledger_entries SET seq = 1000 WHERE institution_id = $1 AND seq = 2`, [ids.order]);
    await tamper(`UPDATE ledger_entries SET seq = 2 WHERE institution_id = $1 AND seq = 3`, [ids.order]);
    await tamper(`UPDATE ledger_entries SET seq = 3 WHERE institution_id = $1 AND seq = 1000`, [ids.order]);
    // A deleted charge.
    await tamper(`DELETE FROM ledger_entries WHERE institution_id = $1 AND seq = 2`, [ids.deleted]);
    // A deleted charge that was signed with another institution's charge: that one's group no longer matches.
    await tamper(`DELETE FROM ledger_entries WHERE institution_id = $1 AND seq = 2`, [ids.pairB]);
    // A charge moved to another group (its digest replaced by the one of the entry before it).
    await tamper(
      `UPDATE ledger_entries SET group_digest = (SELECT group_digest FROM ledger_entries WHERE institution_id = $1 AND seq = 2)
        WHERE institution_id = $1 AND seq = 3`,
      [ids.moved],
    );
    // The budget's order list swapped for one that yields a smaller ε.
    await h.dataSource.query(
      `UPDATE privacy_budgets SET orders = array_fill(2::float8, ARRAY[cardinality(orders)]) WHERE institution_id = $1`,
      [ids.orders],
    );
    // The budget's conversion swapped for another one than it was opened with (its first entry says which).
    await h.dataSource.query(`UPDATE privacy_budgets SET conversion = 'improved' WHERE institution_id = $1`, [ids.conversion]);
    // The cached total lowered.
    await h.dataSource.query(
      `UPDATE privacy_budgets SET epsilon_spent = 0, rdp = array_fill(0::float8, ARRAY[cardinality(rdp)]) WHERE institution_id = $1`,
      [ids.cache],
    );
    // An entry appended with a correct hash but signed by another key.
    const [last] = await h.dataSource.query<{ hash: string; seq: string }[]>(
      `SELECT hash, seq FROM ledger_entries WHERE institution_id = $1 ORDER BY seq DESC LIMIT 1`,
      [ids.forged],
    );
    const forger = generateSigningKeyPair();
    const body = { forged: true, seq: Number(last.seq) + 1 };
    const hash = hashEntry(last.hash, body);
    await h.dataSource.query(
      `INSERT INTO ledger_entries (institution_id, seq, kind, details, rdp, epsilon_spent, epsilon_cap, prev_hash, hash, signature, created_at)
       VALUES ($1, $2, 'budget_changed', '{}'::jsonb, ARRAY[0]::float8[], 0, 1000, $3, $4, $5, now())`,
      [ids.forged, Number(last.seq) + 1, last.hash, hash, signEntryHash(hash, forger.secretKey)],
    );

    const report = await verifyLedger(h.repository, h.keyPair.publicKey);
    expect(report.verified).toBe(false);
    expect(problemsOf(report, 'event')).toEqual(expect.arrayContaining(['hash_mismatch', 'rdp_mismatch']));
    expect(problemsOf(report, 'order')).toEqual(expect.arrayContaining(['prev_hash_mismatch']));
    expect(problemsOf(report, 'deleted')).toEqual(expect.arrayContaining(['seq_gap', 'prev_hash_mismatch']));
    expect(problemsOf(report, 'orders')).toEqual(expect.arrayContaining(['orders_changed']));
    expect(problemsOf(report, 'conversion')).toEqual(['conversion_changed']);
    expect(problemsOf(report, 'cache')).toEqual(expect.arrayContaining(['cached_rdp_mismatch', 'cached_epsilon_mismatch']));
    expect(problemsOf(report, 'forged')).toEqual(expect.arrayContaining(['bad_signature', 'hash_mismatch', 'head_mismatch']));
    expect(problemsOf(report, 'pairB')).toEqual(expect.arrayContaining(['seq_gap', 'prev_hash_mismatch']));
    // pairA's chain is intact, but its seq 2 entry's group lost its other member.
    expect(report.problems.filter((p) => p.institutionId === ids.pairA)).toEqual([
      expect.objectContaining({ seq: 2, problem: 'group_digest_mismatch' }),
    ]);
    expect(problemsOf(report, 'moved')).toEqual(
      expect.arrayContaining(['bad_signature', 'group_digest_mismatch', 'group_signature_differs']),
    );
    expect(problemsOf(report, 'intact')).toEqual([]);

    const cli = runCli();
    expect(cli.code).toBe(1);
    expect(cli.report.verified).toBe(false);
    expect(cli.report.problems).toEqual(report.problems);
  });
});
