/**
 * A man in the middle who substitutes the coordinator's box key (threat model, "A network
 * attacker"): the agent pins the coordinator's signing key, and the box key is served with that
 * key's signature of the `concord-box-key-v1` statement. The real `concord-agent` CLI is run
 * through a proxy that rewrites the coordinator's answers; a substituted key must be refused with
 * nothing sealed or sent, and the genuine one must work.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64, generateIdentity, openEnvelope, readKeyFile } from '@concord/crypto';
import { answerContext, signBoxKeyStatement, verifyBoxKeyStatement } from '@concord/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  institutionWithToken,
  RecordingProxy,
  type Rewrite,
  runAgent,
  startCoordinator,
  startJob,
  type TestCoordinator,
  waitForJob,
} from '../support/agent-harness';
import { createSite, publicPool, SITE_CLASSES, SITE_TEACHERS } from '../support/agent-site';

describe('a box key substituted in transit is refused; the genuine one is used', () => {
  let c: TestCoordinator;
  let proxy: RecordingProxy;
  let root: string;
  /** The attacker: a valid X25519 box key and an Ed25519 key of its own. */
  const attacker = generateIdentity();
  const attackerBox = bytesToBase64(attacker.box.publicKey);
  const attackerSigned = (): string =>
    signBoxKeyStatement(
      { coordinatorSigningPublicKey: bytesToBase64(attacker.signing.publicKey), boxPublicKey: attackerBox },
      attacker.signing.secretKey,
    );

  /** Replaces the box key (and, if given, its signature) in GET /agents/coordinator and the enrollment answer. */
  const substitute =
    (signature: (genuine: string) => string | undefined): Rewrite =>
    (route, json) => {
      if (route === 'GET /agents/coordinator')
        return { ...json, boxPublicKey: attackerBox, boxKeySignature: signature(json.boxKeySignature) };
      if (route === 'POST /agents/enroll' && json.coordinatorBoxPublicKey !== undefined) {
        return { ...json, coordinatorBoxPublicKey: attackerBox, coordinatorBoxKeySignature: signature(json.coordinatorBoxKeySignature) };
      }
      return json;
    };

  async function newSite(name: string): Promise<{ dir: string; modulePath: string; institutionId: string; token: string }> {
    const { institutionId, token } = await institutionWithToken(c, name);
    const site = createSite(join(root, name), 3);
    const dir = join(site.dir, 'agent');
    expect((await runAgent(['init', '--dir', dir])).code).toBe(0);
    expect((await runAgent(['budget', '--dir', dir, '--cap', '100', '--delta', '1e-5'])).code).toBe(0);
    return { dir, modulePath: site.modulePath, institutionId, token };
  }

  function enroll(dir: string, token: string): ReturnType<typeof runAgent> {
    return runAgent([
      'enroll',
      '--dir',
      dir,
      '--url',
      proxy.url,
      '--token',
      token,
      '--teachers',
      String(SITE_TEACHERS),
      '--coordinator-key',
      c.keys.signingPublicKeyBase64,
    ]);
  }

  const config = (dir: string): any => JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));

  async function tokenStatus(institutionId: string): Promise<string> {
    return (await c.call('GET', `/institutions/${institutionId}/enrollment-tokens`)).json[0].status as string;
  }

  async function submissions(institutionId: string): Promise<number> {
    return (await c.sql.query('SELECT count(*)::int AS n FROM submissions WHERE institution_id = $1', [institutionId])).rows[0].n as number;
  }

  beforeAll(async () => {
    c = await startCoordinator();
    proxy = await new RecordingProxy(c.baseUrl).start();
    root = mkdtempSync(join(tmpdir(), 'concord-box-key-'));
  });

  afterAll(async () => {
    await proxy?.close();
    await c?.close();
  });

  it('enroll refuses a substituted box key before the token is spent: nothing sent but GET /agents/coordinator, nothing stored', async () => {
    const site = await newSite('Enroll MITM');
    const variants: [string, Rewrite, RegExp][] = [
      ['kept the genuine signature', substitute((genuine) => genuine), /is NOT signed by the pinned coordinator signing key/],
      ["signed it with the attacker's own key", substitute(attackerSigned), /is NOT signed by the pinned coordinator signing key/],
      ['dropped the signature', substitute(() => undefined), /comes without a signature by the coordinator signing key/],
    ];
    for (const [how, rewrite, message] of variants) {
      proxy.reset(rewrite);
      const refused = await enroll(site.dir, site.token);
      expect(refused.code, `${how}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr, how).toMatch(message);
      expect(refused.stderr, how).toContain(attackerBox);
      expect(refused.stderr, how).toContain('nothing is sealed to it or sent');
      expect(proxy.routes, how).toEqual(['GET /agents/coordinator']);
      expect(config(site.dir).enrollment, how).toBeNull();
      expect(await tokenStatus(site.institutionId), how).toBe('unused');
    }

    // The genuine key, through the same (now honest) proxy: enrolled, with the signature stored.
    proxy.reset();
    const enrolled = await enroll(site.dir, site.token);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain('coordinator box key:      signed by this signing key');
    const e = config(site.dir).enrollment;
    expect(e.coordinatorBoxPublicKey).toBe(c.keys.boxPublicKeyBase64);
    expect(e.coordinatorBoxKeySignature).toBe(c.keys.boxKeySignature);
    expect(
      verifyBoxKeyStatement(
        { coordinatorSigningPublicKey: e.coordinatorSigningPublicKey, boxPublicKey: e.coordinatorBoxPublicKey },
        e.coordinatorBoxKeySignature,
      ),
    ).toBe(true);
    expect(await tokenStatus(site.institutionId)).toBe('used');
  });

  it('enroll refuses an enrollment answer whose box key signature does not verify, and stores nothing', async () => {
    const site = await newSite('Answer MITM');
    proxy.reset((route, json) =>
      route === 'POST /agents/enroll' && json.coordinatorBoxKeySignature !== undefined
        ? { ...json, coordinatorBoxKeySignature: attackerSigned() }
        : json,
    );
    const refused = await enroll(site.dir, site.token);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/the enrollment answer: the coordinator box key .* is NOT signed by the pinned/);
    expect(config(site.dir).enrollment).toBeNull();
  });

  it('run seals nothing and sends nothing to a box key whose signature does not verify, and answers with the genuine one', async () => {
    const site = await newSite('Run MITM');
    proxy.reset();
    expect((await enroll(site.dir, site.token)).code).toBe(0);
    const jobId = await startJob(c, {
      participants: [site.institutionId],
      mechanism: { kind: 'gnmax', sigma: 40 },
      examples: publicPool(10),
      classes: SITE_CLASSES,
      batchSize: 10,
      minTeachers: SITE_TEACHERS,
    });
    const genuine = config(site.dir);
    const run = (): ReturnType<typeof runAgent> => runAgent(['run', '--once', '--dir', site.dir, '--teachers-module', site.modulePath]);
    const contents = (file: string): string => (existsSync(join(site.dir, file)) ? readFileSync(join(site.dir, file), 'utf8') : '');
    const nothingHappened = async (how: string): Promise<void> => {
      expect(await submissions(site.institutionId), how).toBe(0);
      expect(contents('audit.jsonl'), how).toBe('');
      expect(contents('privacy-ledger.jsonl'), how).toBe('');
      expect(contents('pending-answer.json'), how).toBe('');
    };

    // 1. agent.json's box key replaced (its stored signature no longer matches): refused before any request.
    writeFileSync(
      join(site.dir, 'agent.json'),
      JSON.stringify({ ...genuine, enrollment: { ...genuine.enrollment, coordinatorBoxPublicKey: attackerBox } }),
    );
    proxy.reset();
    let refused = await run();
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/agent\.json: the coordinator box key .* is NOT signed by the pinned coordinator signing key/);
    expect(proxy.routes).toEqual([]);
    await nothingHappened('tampered agent.json');

    // 2. Enrolled before box keys were signed (no signature stored) and the refresh is intercepted:
    //    refused after GET /agents/coordinator, with nothing else sent and agent.json unchanged.
    const legacy = { ...genuine, enrollment: { ...genuine.enrollment, coordinatorBoxPublicKey: attackerBox } };
    delete legacy.enrollment.coordinatorBoxKeySignature;
    writeFileSync(join(site.dir, 'agent.json'), JSON.stringify(legacy));
    for (const [how, rewrite] of [
      ['genuine signature kept', substitute((g) => g)],
      ["attacker's signature", substitute(attackerSigned)],
      ['signature dropped', substitute(() => undefined)],
    ] as [string, Rewrite][]) {
      proxy.reset(rewrite);
      refused = await run();
      expect(refused.code, `${how}: ${refused.stderr}`).toBe(2);
      expect(refused.stderr, how).toMatch(
        /GET .*\/agents\/coordinator: the coordinator box key .* (is NOT signed|comes without a signature)/,
      );
      expect(proxy.routes, how).toEqual(['GET /agents/coordinator']);
      expect(config(site.dir), how).toEqual(legacy);
      await nothingHappened(how);
    }

    // 3. The same legacy configuration through an honest proxy: the genuine box key is fetched,
    //    verified and stored, and the batch is answered — sealed to the genuine key.
    proxy.reset();
    const answered = await run();
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stderr).toContain(`the coordinator box key changed since enrollment: now ${c.keys.boxPublicKeyBase64}`);
    expect(config(site.dir).enrollment).toEqual(genuine.enrollment);
    expect(proxy.routes[0]).toBe('GET /agents/coordinator');
    expect((await waitForJob(c, jobId, ['completed', 'failed'])).status).toBe('completed');
    const identity = await readKeyFile(join(site.dir, 'identity.json'));
    const stored = await c.sql.query('SELECT batch_id, nonce, envelope FROM submissions WHERE institution_id = $1', [site.institutionId]);
    expect(stored.rows).toHaveLength(1);
    const row = stored.rows[0];
    const envelope = typeof row.envelope === 'string' ? JSON.parse(row.envelope) : row.envelope;
    const opened = openEnvelope(
      envelope,
      c.keys.box.secretKey,
      identity.signing.publicKey,
      answerContext(jobId, row.batch_id, 1, row.nonce),
    );
    expect(opened.payload).toMatchObject({ jobId, batchId: row.batch_id, teachers: SITE_TEACHERS });
  });
});
