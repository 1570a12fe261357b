import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64ToBytes, canonicalJson, openEnvelope, readKeyFile } from '@concord/crypto';
import { answerContext } from '@concord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentProcess,
  institutionWithToken,
  RecordingProxy,
  runAgent,
  spawnAgent,
  startCoordinator,
  startJob,
  type TestCoordinator,
  waitForJob,
} from '../support/agent-harness';
import { createSite, publicPool, SITE_CLASSES, SITE_TEACHERS, type SiteData } from '../support/agent-site';

/** What may travel from an agent to the coordinator, and nothing else. */
const ROUTES = [
  /^GET \/agents\/coordinator$/,
  /^POST \/agents\/enroll$/,
  /^GET \/agent\/batches\/next$/,
  /^POST \/agent\/batches\/[^/]+\/answers$/,
];
const STANDARD_HEADERS = new Set([
  'host',
  'connection',
  'content-type',
  'content-length',
  'accept',
  'accept-language',
  'accept-encoding',
  'sec-fetch-mode',
  'user-agent',
]);
const CONCORD_HEADERS = new Set(['x-concord-agent', 'x-concord-timestamp', 'x-concord-nonce', 'x-concord-signature']);
const ENVELOPE_FIELDS = ['alg', 'ciphertext', 'ephemeralPublicKey', 'nonce', 'signature', 'signerPublicKey', 'version'];
const PAYLOAD_FIELDS = ['attempt', 'batchId', 'jobId', 'kind', 'protocolVersion', 'rows', 'teachers'];

interface Site extends SiteData {
  name: string;
  agentId: string;
  institutionId: string;
  signingPublicKey: Uint8Array;
  daemon?: AgentProcess;
}

function argmax(p: number[]): number {
  return p.reduce((best, v, i) => (v > p[best] ? i : best), 0);
}

describe('what leaves the site: every byte an agent sends, over a whole job', () => {
  let c: TestCoordinator;
  let proxy: RecordingProxy;
  const sites: Site[] = [];
  const jobs: { id: string; mechanism: any }[] = [];

  beforeAll(async () => {
    c = await startCoordinator();
    proxy = await new RecordingProxy(c.baseUrl).start();
    const coordinatorKey = c.keys.signingPublicKeyBase64;
    const root = mkdtempSync(join(tmpdir(), 'concord-egress-'));
    await Promise.all(
      ['North Bank', 'South Clinic'].map(async (name, s) => {
        const { institutionId, token } = await institutionWithToken(c, name);
        const data = createSite(join(root, `site-${s}`), s);
        const dir = join(data.dir, 'agent');
        const agentDir = ['--dir', dir];
        expect((await runAgent(['init', ...agentDir])).code).toBe(0);
        const enrolled = await runAgent([
          'enroll',
          ...agentDir,
          '--url',
          proxy.url,
          '--token',
          token,
          '--teachers',
          String(SITE_TEACHERS),
          '--coordinator-key',
          coordinatorKey,
        ]);
        expect(enrolled.code, enrolled.stderr).toBe(0);
        expect(enrolled.stdout).toContain(`coordinator fingerprint:  ${c.keys.signingKeyFingerprint}`);
        expect(enrolled.stdout).toContain('matches the pinned --coordinator-key');
        expect((await runAgent(['budget', ...agentDir, '--cap', '500', '--delta', '1e-5'])).code).toBe(0);
        const config = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
        const identity = await readKeyFile(join(dir, 'identity.json'));
        sites[s] = { ...data, dir, name, institutionId, agentId: config.enrollment.agentId, signingPublicKey: identity.signing.publicKey };
      }),
    );
    for (const site of sites) {
      site.daemon = spawnAgent(['run', '--dir', site.dir, '--teachers-module', site.modulePath, '--poll-interval', '100']);
    }
    const participants = sites.map((s) => s.institutionId);
    const confident = { kind: 'confident_gnmax', threshold: 6, sigma1: 2, sigma2: 1 };
    jobs.push({
      id: await startJob(c, {
        participants,
        mechanism: confident,
        examples: publicPool(24),
        classes: SITE_CLASSES,
        batchSize: 8,
        minTeachers: 10,
      }),
      mechanism: confident,
    });
    expect((await waitForJob(c, jobs[0].id, ['completed', 'failed']).catch(daemonOutput)).status).toBe('completed');
    const soft = { kind: 'gaussian_soft_labels', sigma: 1, clipNorm: 0.8 };
    jobs.push({
      id: await startJob(c, {
        participants,
        mechanism: soft,
        examples: publicPool(16),
        classes: SITE_CLASSES,
        batchSize: 8,
        minTeachers: 10,
      }),
      mechanism: soft,
    });
    expect((await waitForJob(c, jobs[1].id, ['completed', 'failed']).catch(daemonOutput)).status).toBe('completed');
    // Soft labels over the teachers' votes: the agent sends vote histograms, not probability sums.
    const softVotes = { kind: 'gaussian_soft_labels', sigma: 1, clipNorm: 1, teacherOutput: 'votes' };
    jobs.push({
      id: await startJob(c, {
        participants,
        mechanism: softVotes,
        examples: publicPool(16),
        classes: SITE_CLASSES,
        batchSize: 8,
        minTeachers: 10,
      }),
      mechanism: softVotes,
    });
    expect((await waitForJob(c, jobs[2].id, ['completed', 'failed']).catch(daemonOutput)).status).toBe('completed');
  });

  function daemonOutput(error: Error): never {
    throw new Error(`${error.message}\n${sites.map((s) => `--- ${s.name}:\n${s.daemon?.stderr() ?? ''}`).join('\n')}`);
  }

  afterAll(async () => {
    for (const site of sites) if (site.daemon && site.daemon.child.exitCode === null) site.daemon.child.kill('SIGKILL');
    await proxy?.close();
    await c?.close();
  });

  it('daemons stop cleanly on SIGTERM (exit 0) once the jobs are done', async () => {
    for (const site of sites) site.daemon!.child.kill('SIGTERM');
    for (const site of sites) {
      expect(await site.daemon!.exited, site.daemon!.stderr()).toBe(0);
      expect(site.daemon!.stderr()).toMatch(/stopped \(signal received\): 7 batch\(es\) answered/);
    }
  });

  it('sends only protocol routes, standard and x-concord-* headers, and no local data in any byte', () => {
    expect(proxy.exchanges.length).toBeGreaterThan(10);
    const markers = sites.flatMap((s) => s.markers);
    const features = [...publicPool(24), ...publicPool(16)].map((f) => JSON.stringify(f).slice(1, -1));
    for (const ex of proxy.exchanges) {
      expect(
        ROUTES.some((r) => r.test(`${ex.method} ${ex.url}`)),
        `${ex.method} ${ex.url}`,
      ).toBe(true);
      for (let i = 0; i < ex.rawHeaders.length; i += 2) {
        const name = ex.rawHeaders[i].toLowerCase();
        expect(STANDARD_HEADERS.has(name) || CONCORD_HEADERS.has(name), `header ${name}`).toBe(true);
      }
      if (ex.method === 'GET') expect(ex.body.length).toBe(0);
      const bytes = `${ex.method} ${ex.url}\n${ex.rawHeaders.join('\n')}\n${ex.body.toString('utf8')}`;
      for (const marker of [...markers, 'patient_id', 'MRN-SECRET', 'data.csv', 'teachers.js']) expect(bytes).not.toContain(marker);
      for (const f of features) expect(bytes).not.toContain(f);
    }
    const enrolls = proxy.exchanges.filter((e) => e.url === '/agents/enroll');
    expect(enrolls).toHaveLength(2);
    for (const e of enrolls)
      expect(Object.keys(JSON.parse(e.body.toString())).sort()).toEqual([
        'boxPublicKey',
        'proof',
        'protocolVersion',
        'signingPublicKey',
        'teachers',
        'token',
      ]);
  });

  it('each answer opens to one institution-level row per query: the k teachers’ histogram or clipped sum, never a teacher’s own output', () => {
    const assignments = new Map<string, any>();
    for (const ex of proxy.exchanges) {
      if (ex.url === '/agent/batches/next' && ex.status === 200) {
        const batch = JSON.parse(ex.responseBody!.toString());
        assignments.set(`${batch.batchId}/${batch.attempt}`, batch);
      }
    }
    const answers = proxy.exchanges.filter((e) => e.method === 'POST' && e.url.endsWith('/answers'));
    // 2 sites × (3 + 2 + 2) batches, each answered exactly once.
    expect(answers).toHaveLength(14);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    for (const ex of answers) {
      const agentId = ex.rawHeaders[ex.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-concord-agent') + 1];
      const site = sites.find((s) => s.agentId === agentId)!;
      const body = JSON.parse(ex.body.toString());
      expect(Object.keys(body).sort()).toEqual(['envelope', 'nonce']);
      expect(Object.keys(body.envelope).sort()).toEqual(ENVELOPE_FIELDS);
      const batchId = decodeURIComponent(ex.url.split('/')[3]);
      const batch = [...assignments.values()].find((b) => b.batchId === batchId)!;
      const opened = openEnvelope(
        body.envelope,
        c.keys.box.secretKey,
        site.signingPublicKey,
        answerContext(batch.jobId, batchId, batch.attempt, body.nonce),
      );
      expect(opened.kind).toBe('json');
      const payload = opened.payload as any;
      expect(Object.keys(payload).sort()).toEqual(PAYLOAD_FIELDS);
      expect(payload.teachers).toBe(SITE_TEACHERS);

      // What the site's teachers said, recomputed here from the same module and queries.
      const teachers = createRequire(__filename)(site.modulePath) as { predict(f: number[][]): number[][][] };
      const perTeacher = teachers.predict(batch.queries.map((q: any) => q.features));
      expect(perTeacher).toHaveLength(SITE_TEACHERS);
      const plaintext = JSON.stringify(payload);
      if (batch.mechanism.kind === 'gaussian_soft_labels' && batch.mechanism.teacherOutput !== 'votes') {
        const clip = batch.mechanism.clipNorm;
        const expected = batch.queries.map((_: unknown, i: number) =>
          SITE_CLASSES.map((_c, k) =>
            perTeacher.reduce((sum, outputs) => {
              const norm = Math.hypot(...outputs[i]);
              return sum + outputs[i][k] * Math.min(1, clip / norm);
            }, 0),
          ),
        );
        expect(payload.kind).toBe('probabilities');
        payload.rows.forEach((row: number[], i: number) => row.forEach((v, k) => expect(v).toBeCloseTo(expected[i][k], 12)));
      } else {
        const expected = batch.queries.map((_: unknown, i: number) => {
          const h = SITE_CLASSES.map(() => 0);
          for (const outputs of perTeacher) h[argmax(outputs[i])] += 1;
          return h;
        });
        expect(payload.kind).toBe('votes');
        expect(payload.rows).toEqual(expected);
      }
      for (const outputs of perTeacher) {
        for (const p of outputs) {
          for (const v of p) {
            const text = String(v);
            if (text.length >= 8) {
              expect(plaintext).not.toContain(text);
              expect(ex.body.toString()).not.toContain(text);
            }
          }
        }
      }
      for (const marker of site.markers) expect(plaintext).not.toContain(marker);
    }
  });

  it('`audit` lists exactly the payloads that were sent, with the hash of each envelope', async () => {
    for (const site of sites) {
      const audit = await runAgent(['audit', '--dir', site.dir, '--json']);
      expect(audit.code).toBe(0);
      const records = audit.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const sealed = records.filter((r) => r.type === 'sealed');
      const sent = proxy.exchanges
        .filter((e) => e.url.endsWith('/answers') && e.rawHeaders.includes(site.agentId))
        .map((e) =>
          createHash('sha256')
            .update(canonicalJson(JSON.parse(e.body.toString()).envelope))
            .digest('hex'),
        );
      expect(sealed.map((r) => r.envelopeSha256).sort()).toEqual([...sent].sort());
      expect(records.filter((r) => r.type === 'acknowledged').map((r) => r.outcome)).toEqual(sent.map(() => 'accepted'));
      expect(sealed.every((r) => r.rows.length === r.queryIndices.length && r.teachers === SITE_TEACHERS)).toBe(true);
      const human = await runAgent(['audit', '--dir', site.dir, '--job', jobs[0].id]);
      expect(human.stdout).toMatch(/SENT {2}job .* batch .*\(seq 1, attempt 1\)/);
      expect(human.stdout).toMatch(/votes of 5 teachers, envelope sha256 [0-9a-f]{64}/);
      const status = await runAgent(['status', '--dir', site.dir, '--teachers-module', site.modulePath]);
      expect(status.stdout).toContain(`enrollment: agent ${site.agentId}`);
      expect(status.stdout).toMatch(/local budget: ε spent \d+\.\d+ of 500 at δ = 0\.00001; remaining/);
    }
    // The public key bytes, but never the secret half, travelled at enrollment.
    const identityFile = JSON.parse(readFileSync(join(sites[0].dir, 'identity.json'), 'utf8'));
    const all = proxy.exchanges.map((e) => e.body.toString()).join('\n');
    expect(all).toContain(identityFile.signingPublicKey);
    expect(all).not.toContain(identityFile.signingSecretKey);
    expect(all).not.toContain(identityFile.boxSecretKey);
    expect(base64ToBytes(identityFile.boxPublicKey, 'box', 32)).toHaveLength(32);
  });
});
