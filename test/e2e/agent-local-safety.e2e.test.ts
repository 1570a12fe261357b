import { mkdtempSync, readFileSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestAgent } from '../support/agent-client';
import {
  type AgentProcess,
  institutionWithToken,
  RecordingProxy,
  runAgent,
  spawnAgent,
  startCoordinator,
  startJob,
  type TestCoordinator,
} from '../support/agent-harness';
import { createSite, publicPool, SITE_CLASSES, SITE_TEACHERS } from '../support/agent-site';

function jsonLines(path: string): any[] {
  return existsSync(path)
    ? readFileSync(path, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l))
    : [];
}

/** erfc(x) for x ≥ 1 by its continued fraction (evaluated bottom-up), to double precision. */
function erfc(x: number): number {
  let f = x;
  for (let k = 400; k >= 1; k--) f = x + k / 2 / f;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/**
 * ε of b batches of n GNMax queries at σ. Each query is a Gaussian mechanism of L2 sensitivity √2
 * (data-independent), so together they are exactly μ-GDP with μ² = 2·b·n/σ², and the agent (like
 * the coordinator's budgets) converts exactly, by the analytic Gaussian mechanism (Balle & Wang
 * 2018, Thm 8): δ(ε) = Φ(−ε/μ + μ/2) − e^ε Φ(−ε/μ − μ/2), solved for ε by bisection — written out
 * here, independently of libs/privacy (Φ(−t) = erfc(t/√2)/2, valid for the tails used here).
 */
function gnmaxEpsilon(batches: number, queriesPerBatch: number, sigma: number, delta: number): number {
  const mu = Math.sqrt((2 * batches * queriesPerBatch) / sigma ** 2);
  const phiLeft = (t: number): number => erfc(-t / Math.SQRT2) / 2; // Φ(t) for t ≤ −√2
  const deltaAt = (eps: number): number => phiLeft(-eps / mu + mu / 2) - Math.exp(eps) * phiLeft(-eps / mu - mu / 2);
  let lo = 0.2;
  let hi = 5;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (deltaAt(mid) > delta) lo = mid;
    else hi = mid;
  }
  return hi;
}

describe('the agent’s own safeguards', () => {
  let c: TestCoordinator;
  let root: string;

  beforeAll(async () => {
    c = await startCoordinator();
    root = mkdtempSync(join(tmpdir(), 'concord-agent-safety-'));
  });

  afterAll(async () => {
    await c?.close();
  });

  async function enrolledSite(name: string, url: string, cap: string): Promise<{ dir: string; modulePath: string; institutionId: string }> {
    const { institutionId, token } = await institutionWithToken(c, name);
    const site = createSite(join(root, name), 7);
    const dir = join(site.dir, 'agent');
    expect((await runAgent(['init', '--dir', dir])).code).toBe(0);
    const enrolled = await runAgent([
      'enroll',
      '--dir',
      dir,
      '--url',
      url,
      '--token',
      token,
      '--teachers',
      String(SITE_TEACHERS),
      '--coordinator-fingerprint',
      c.keys.signingKeyFingerprint,
    ]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect((await runAgent(['budget', '--dir', dir, '--cap', cap, '--delta', '1e-5'])).code).toBe(0);
    return { dir, modulePath: site.modulePath, institutionId };
  }

  it('init writes the keys and the configuration with mode 0600, and never overwrites them', async () => {
    const dir = join(root, 'init-only');
    const first = await runAgent(['init'], { CONCORD_AGENT_DIR: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(statSync(join(dir, 'identity.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'agent.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);
    const keys = readFileSync(join(dir, 'identity.json'), 'utf8');
    const again = await runAgent(['init', '--dir', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: refusing to overwrite/);
    expect(readFileSync(join(dir, 'identity.json'), 'utf8')).toBe(keys);
  });

  it('stops at the batch the local cap cannot pay for, says why, and sends nothing for it', async () => {
    // GNMax σ = 40, 10 queries per batch: μ² = 0.0125 per batch. At δ = 1e-5 (formula above):
    // after 2 batches ε = 0.5613, after 3 batches ε = 0.7004 (the improved RDP conversion would
    // say 0.6158 and 0.7670). A cap of 0.65 pays for batches 1 and 2 and refuses batch 3.
    expect(gnmaxEpsilon(2, 10, 40, 1e-5)).toBeCloseTo(0.5613, 4);
    expect(gnmaxEpsilon(3, 10, 40, 1e-5)).toBeCloseTo(0.7004, 4);
    const site = await enrolledSite('capped', c.baseUrl, '0.65');
    const jobId = await startJob(c, {
      participants: [site.institutionId],
      mechanism: { kind: 'gnmax', sigma: 40 },
      examples: publicPool(50),
      classes: SITE_CLASSES,
      batchSize: 10,
      minTeachers: SITE_TEACHERS,
    });
    const run = await runAgent(['run', '--dir', site.dir, '--teachers-module', site.modulePath, '--poll-interval', '100']);
    expect(run.code, run.stderr).toBe(3);
    const refusal =
      /refusing batch (\S+) \(job (\S+), seq 3, attempt 1, 10 queries\): ε would go from 0\.5613 to 0\.7004 at δ=0\.00001, above the local cap ε=0\.65\. Nothing was sent\./;
    expect(run.stderr).toMatch(refusal);
    const refusedBatch = refusal.exec(run.stderr)![1];
    const ledger = jsonLines(join(site.dir, 'privacy-ledger.jsonl'));
    expect(ledger.map((l) => [l.seq, l.event])).toEqual([
      [1, { kind: 'gnmax', sigma: 40, queries: 10 }],
      [2, { kind: 'gnmax', sigma: 40, queries: 10 }],
    ]);
    expect(ledger[1].epsilonAfter).toBeCloseTo(gnmaxEpsilon(2, 10, 40, 1e-5), 9);
    // The coordinator got answers to batches 1 and 2 only.
    const job = (await c.call('GET', `/jobs/${jobId}`)).json;
    expect(job.released).toBe(20);
    const submitted = await c.sql.query('SELECT count(*)::int AS n FROM submissions WHERE batch_id = $1', [refusedBatch]);
    expect(submitted.rows[0].n).toBe(0);
    // Restarting changes nothing: the cap refuses again before anything is sent.
    const again = await runAgent(['run', '--once', '--dir', site.dir, '--teachers-module', site.modulePath]);
    expect(again.code).toBe(3);
    expect(jsonLines(join(site.dir, 'audit.jsonl')).filter((r) => r.type === 'sealed')).toHaveLength(2);
    const status = await runAgent(['status', '--dir', site.dir]);
    expect(status.stdout).toMatch(/local budget: ε spent 0\.5612\d+ of 0\.65 at δ = 0\.00001; remaining 0\.0887/);
  });

  it('after a crash between sending and the answer, resends the same sealed answer: already_received, stored once, charged once', async () => {
    const proxy = await new RecordingProxy(c.baseUrl).start();
    try {
      const site = await enrolledSite('crashing', proxy.url, '100');
      // A second institution that has not answered keeps the batch open meanwhile.
      const other = await institutionWithToken(c, 'slow partner');
      const partner = new TestAgent(c.baseUrl);
      await partner.enroll(other.token, c.keys.signingPublicKeyBase64, SITE_TEACHERS);
      await startJob(c, {
        participants: [site.institutionId, other.institutionId],
        mechanism: { kind: 'gnmax', sigma: 40 },
        examples: publicPool(20),
        classes: SITE_CLASSES,
        batchSize: 10,
        minTeachers: 2 * SITE_TEACHERS,
      });
      // The hook is in place before the child can send anything (it starts asynchronously).
      const agent: AgentProcess = spawnAgent(['run', '--once', '--dir', site.dir, '--teachers-module', site.modulePath]);
      proxy.beforeReply = (exchange) => {
        if (!exchange.url.endsWith('/answers')) return 'deliver';
        agent.child.kill('SIGKILL'); // the coordinator has stored it; the agent dies before it hears so
        return 'withhold';
      };
      expect(await agent.exited).toBeNull(); // killed
      proxy.beforeReply = undefined;
      const pending = JSON.parse(readFileSync(join(site.dir, 'pending-answer.json'), 'utf8'));
      const stored = async (): Promise<any[]> =>
        (
          await c.sql.query('SELECT envelope_sha256 FROM submissions WHERE batch_id = $1 AND institution_id = $2', [
            pending.batchId,
            site.institutionId,
          ])
        ).rows;
      expect(await stored()).toEqual([{ envelope_sha256: pending.envelopeSha256 }]);
      expect(jsonLines(join(site.dir, 'audit.jsonl')).map((r) => r.type)).toEqual(['sealed']);

      const restarted = await runAgent(['run', '--once', '--dir', site.dir, '--teachers-module', site.modulePath]);
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(restarted.stderr).toContain(`resending the sealed answer to ${pending.batchId} (attempt 1)`);
      expect(restarted.stderr).toContain(`batch ${pending.batchId}: answer already received`);
      const resent = proxy.exchanges.filter((e) => e.url.endsWith('/answers'));
      expect(resent).toHaveLength(2);
      expect(JSON.parse(resent[1].body.toString())).toEqual(pending.body); // the same sealed bytes
      expect(JSON.parse(resent[1].responseBody!.toString())).toEqual({ status: 'already_received' });
      expect(await stored()).toHaveLength(1);
      expect(existsSync(join(site.dir, 'pending-answer.json'))).toBe(false);
      const audit = jsonLines(join(site.dir, 'audit.jsonl'));
      expect(audit.map((r) => [r.type, r.outcome])).toEqual([
        ['sealed', undefined],
        ['acknowledged', 'already_received'],
      ]);
      expect(jsonLines(join(site.dir, 'privacy-ledger.jsonl')).filter((l) => l.batchId === pending.batchId)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
