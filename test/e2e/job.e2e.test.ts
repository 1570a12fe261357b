import {
  base64ToBytes,
  bytesToBase64,
  canonicalJsonBytes,
  concatBytes,
  groupDigest,
  sign,
  utf8ToBytes,
  verifyGroupSignature,
} from '@concord/crypto';
import { answerContext } from '@concord/protocol';
import { epsilonOfGaussianDp, gaussianMuSquaredOfEvent, parseDpEvent } from '@concord/privacy';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { TestAgent } from '../support/agent-client';
import { apiCall, startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TOY_CLASSES, toyExample, toyHistogram } from '../support/toy-task';

const TEACHERS = 10;
const CLASSES = TOY_CLASSES;
const QUERIES = 40;

const example = toyExample;
const histogram = (features: number[]): number[] => toyHistogram(features, TEACHERS);

describe('a whole Confident-GNMax job over HTTP, three institutions', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let sql: Client;
  let admin: string;
  let coordinatorKey: string;
  let taskId: string;
  const institutions: string[] = [];
  const agents: TestAgent[] = [];

  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> =>
    apiCall(running.baseUrl, admin, method, path, body);

  async function count(table: string): Promise<number> {
    return Number((await sql.query(`SELECT count(*) AS c FROM ${table}`)).rows[0].c);
  }

  async function untilPublished(jobId: string): Promise<any> {
    for (let i = 0; i < 100; i++) {
      const job = (await call('GET', `/jobs/${jobId}`)).json;
      if (job.epsilonDataDependentSanitized !== null || job.dataDependentNote !== null) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no data-dependent figure was published');
  }

  /** Every agent answers whatever batch it is given, honestly, until none is left. */
  async function answerAll(active: TestAgent[], jobId: string): Promise<any> {
    for (let round = 0; round < 200; round++) {
      const job = (await call('GET', `/jobs/${jobId}`)).json;
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
      for (const agent of active) {
        const batch = await agent.nextBatch();
        if (!batch || batch.jobId !== jobId) continue;
        const res = await answerHonestly(agent, batch);
        expect([202, 409]).toContain(res.status);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('job did not finish');
  }

  /** One honest answer: the agent's teachers vote as the toy task says. */
  function answerHonestly(agent: TestAgent, batch: NonNullable<Awaited<ReturnType<TestAgent['nextBatch']>>>): Promise<Response> {
    return agent.answer(
      batch,
      TEACHERS,
      batch.queries.map((q) => histogram(q.features)),
    );
  }

  /** The job's student once trained (or failed). */
  async function untilStudent(jobId: string): Promise<any> {
    let student: any;
    for (let i = 0; i < 300; i++) {
      student = (await call('GET', `/jobs/${jobId}/student`)).json;
      if (student.status === 'ready' || student.status === 'failed') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return student;
  }

  async function createJob(participants: string[], extra: Record<string, unknown> = {}): Promise<{ status: number; json: any }> {
    return call('POST', '/jobs', {
      taskId,
      mechanism: { kind: 'confident_gnmax', threshold: 20, sigma1: 2, sigma2: 2 },
      participants,
      queries: QUERIES,
      batchSize: 16,
      batchDeadlineMs: 30_000,
      minTeachers: 20,
      delta: 1e-5,
      ...extra,
    });
  }

  /** Institutions of their own (declaring their teachers) with enrolled agents, so the budgets of other tests are untouched. */
  async function enrolledSites(names: readonly string[]): Promise<{ sites: string[]; siteAgents: TestAgent[] }> {
    const sites: string[] = [];
    const siteAgents: TestAgent[] = [];
    for (const name of names) {
      const inst = await call('POST', '/institutions', { name, epsilonCap: 900, delta: 1e-5 });
      sites.push(inst.json.id);
      const token = await call('POST', `/institutions/${inst.json.id}/enrollment-tokens`, {});
      const agent = new TestAgent(running.baseUrl);
      await agent.enroll(token.json.token, coordinatorKey, TEACHERS);
      siteAgents.push(agent);
    }
    return { sites, siteAgents };
  }

  /** A toy task of its own; returns its id. */
  async function toyTask(name: string): Promise<string> {
    const task = await call('POST', '/tasks', {
      name,
      inputSpec: { kind: 'tabular', features: [{ name: 'is_cat' }, { name: 'is_dog' }, { name: 'is_bird' }, { name: 'contested' }] },
      classes: CLASSES,
    });
    return task.json.id;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    admin = (await running.app.get(ApiKeysService).create('admin')).key;
    coordinatorKey = ((await (await fetch(`${running.baseUrl}/agents/coordinator`)).json()) as { signingPublicKey: string })
      .signingPublicKey;
    for (const name of ['Bank North', 'Bank South', 'Hospital East']) {
      const inst = await call('POST', '/institutions', { name, epsilonCap: 900, delta: 1e-5 });
      institutions.push(inst.json.id);
      const token = await call('POST', `/institutions/${inst.json.id}/enrollment-tokens`, {});
      const agent = new TestAgent(running.baseUrl);
      await agent.enroll(token.json.token, coordinatorKey);
      agents.push(agent);
    }
    const task = await call('POST', '/tasks', {
      name: 'toy',
      inputSpec: { kind: 'tabular', features: [{ name: 'is_cat' }, { name: 'is_dog' }, { name: 'is_bird' }, { name: 'contested' }] },
      classes: CLASSES,
    });
    taskId = task.json.id;
    const examples = Array.from({ length: QUERIES }, (_, i) => example(i));
    expect((await call('POST', `/tasks/${taskId}/pool`, { split: 'public', examples })).status).toBe(201);
    const holdout = Array.from({ length: 30 }, (_, i) => example(i * 5));
    expect(
      (await call('POST', `/tasks/${taskId}/pool`, { split: 'holdout', examples: holdout, labels: holdout.map((e) => e.indexOf(1)) }))
        .status,
    ).toBe(201);
  });

  afterAll(async () => {
    await sql?.end();
    await running?.close();
    await db?.close();
  });

  it('refuses a job whose worst case exceeds a participant’s budget, writing nothing', async () => {
    const poor = await call('POST', '/institutions', { name: 'Clinic Small', epsilonCap: 1, delta: 1e-5 });
    const before = await count('jobs');
    const res = await createJob([institutions[0], poor.json.id]);
    expect(res.status).toBe(409);
    expect(res.json.errors.map((e: { field: string }) => e.field)).toEqual(['body.participants[1]']);
    expect(await count('jobs')).toBe(before);
    const bad = await createJob(institutions, { mechanism: { kind: 'confident_gnmax', threshold: 20, sigma1: -2, sigma2: 2 } });
    expect(bad.status).toBe(400);
    expect(bad.json.errors.map((e: { field: string }) => e.field)).toContain('body.mechanism.sigma1');
  });

  it('runs to completion: labels released, each institution charged once per batch, ledger verified; bad answers change nothing', async () => {
    const job = await createJob(institutions);
    expect(job.status).toBe(201);
    const started = await call('POST', `/jobs/${job.json.id}/start`);
    expect(started.json, JSON.stringify(started.json)).toMatchObject({ status: 'running' });

    // Hostile and malformed answers to the first batch, before anyone answers honestly.
    const [a, b] = agents;
    const batch = (await a.nextBatch())!;
    expect(batch.queries).toHaveLength(16);
    const rows = batch.queries.map((q) => histogram(q.features));
    const stored = await count('submissions');
    const malformed = await a.answer(
      batch,
      TEACHERS,
      rows.map((r) => r.slice(0, 2)),
    );
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).errors[0].field).toMatch(/^payload\.rows\[0\]/);
    const wrongSum = await a.answer(
      batch,
      TEACHERS,
      rows.map(() => [TEACHERS, 1, 0]),
    );
    expect(wrongSum.status).toBe(400);
    // B forwards A's sealed answer as its own: the envelope is not signed by B.
    const stolen = a.answerBody(batch, TEACHERS, rows);
    expect((await b.request('POST', `/agent/batches/${batch.batchId}/answers`, stolen)).status).toBe(400);
    // B strips A's signature and re-signs A's ciphertext with its own key, for its own request:
    // the signature now verifies under B's key, but the sealed plaintext names A as its signer.
    const victim = a.answerBody(batch, TEACHERS, rows) as { nonce: string; envelope: Record<string, string> };
    const resigned = {
      ...victim.envelope,
      signature: bytesToBase64(
        sign(
          concatBytes(
            utf8ToBytes('concord-envelope-v1\n'),
            canonicalJsonBytes({
              version: 1,
              alg: victim.envelope.alg,
              ephemeralPublicKey: victim.envelope.ephemeralPublicKey,
              nonce: victim.envelope.nonce,
              ciphertext: victim.envelope.ciphertext,
              recipientBoxPublicKey: bytesToBase64(b.coordinatorBoxKey),
              context: answerContext(batch.jobId, batch.batchId, batch.attempt, victim.nonce),
            }),
          ),
          b.identity.signing.secretKey,
        ),
      ),
      signerPublicKey: bytesToBase64(b.identity.signing.publicKey),
    };
    const resignedRes = await b.request('POST', `/agent/batches/${batch.batchId}/answers`, { nonce: victim.nonce, envelope: resigned });
    expect(resignedRes.status).toBe(400);
    const resignedProblem = JSON.stringify(await resignedRes.json());
    // The forged signature itself verifies under B's key; the sealed header is what catches it.
    expect(resignedProblem).toMatch(/sealed_header_mismatch/);
    // A stale request (signed 10 minutes ago).
    const stale = await a.request('POST', `/agent/batches/${batch.batchId}/answers`, a.answerBody(batch, TEACHERS, rows), {
      now: () => Date.now() - 600_000,
    });
    expect(stale.status).toBe(401);
    expect(await count('submissions')).toBe(stored);
    // The honest answer, then the exact same request replayed (same request nonce).
    const body = a.answerBody(batch, TEACHERS, rows);
    const nonce = 'replay-nonce-0123456789abcdef';
    expect((await a.request('POST', `/agent/batches/${batch.batchId}/answers`, body, { nonce })).status).toBe(202);
    expect((await a.request('POST', `/agent/batches/${batch.batchId}/answers`, body, { nonce })).status).toBe(401);
    // The same sealed answer sent again in a fresh request is recognised, not stored twice.
    const again = await a.request('POST', `/agent/batches/${batch.batchId}/answers`, body);
    expect(await again.json()).toEqual({ status: 'already_received' });
    expect(await count('submissions')).toBe(stored + 1);

    const done = await answerAll(agents, job.json.id);
    expect(done.status).toBe('completed');
    expect(done.released).toBe(QUERIES);

    const labels = (await call('GET', `/jobs/${job.json.id}/labels`)).json as {
      queryIndex: number;
      answered: boolean;
      label: number | null;
    }[];
    expect(labels).toHaveLength(QUERIES);
    for (const l of labels) {
      if (l.queryIndex % 5 === 4) expect(l).toMatchObject({ answered: false, label: null });
      else expect(l).toMatchObject({ answered: true, label: l.queryIndex % 3 });
    }
    expect(done.answered).toBe(labels.filter((l) => l.answered).length);

    // Each institution: one charge per batch, and ε spent is the exact ε of exactly those events
    // (Gaussian mechanisms: μ² adds up; analytic-Gaussian conversion).
    for (const id of institutions) {
      const entries = (await call('GET', `/budgets/${id}/entries?limit=100`)).json.entries as any[];
      const charges = entries.filter((e) => e.kind === 'charge' && e.jobId === job.json.id);
      expect(charges.map((c) => c.batchId)).toEqual(['batch-1', 'batch-2', 'batch-3']);
      expect(charges.reduce((s, c) => s + c.event.answered, 0)).toBe(done.answered);
      const mu2 = charges.reduce((sum, c) => sum + gaussianMuSquaredOfEvent(parseDpEvent(c.event))!, 0);
      const budget = (await call('GET', `/budgets/${id}`)).json;
      expect(budget.conversion).toBe('analytic_gaussian');
      expect(budget.epsilonSpent).toBeCloseTo(epsilonOfGaussianDp(Math.sqrt(mu2), 1e-5), 10);
      expect(done.participants.find((p: any) => p.institutionId === id).charges).toBe(3);
    }
    // A batch's charges to the three institutions were appended in one transaction and signed
    // together: the group is served, and anyone with the public key can check its signature.
    const firstCharge = ((await call('GET', `/budgets/${institutions[0]}/entries?limit=100`)).json.entries as any[]).find(
      (e) => e.kind === 'charge' && e.jobId === job.json.id,
    );
    const group = (await call('GET', `/ledger/groups/${firstCharge.groupDigest}`)).json;
    expect(group.entries.map((e: any) => e.institutionId).sort()).toEqual(expect.arrayContaining([...institutions].sort()));
    expect(group.entries.map((e: any) => e.hash)).toContain(firstCharge.hash);
    expect(group.signature).toBe(firstCharge.signature);
    expect(groupDigest(group.entries.map((e: any) => e.hash))).toBe(firstCharge.groupDigest);
    const publicKey = base64ToBytes((await call('GET', '/ledger/public-key')).json.publicKey, 'publicKey', 32);
    expect(verifyGroupSignature(firstCharge.groupDigest, group.signature, publicKey)).toBe(true);
    const badDigest = await call('GET', '/ledger/groups/not-a-digest');
    expect(badDigest.status).toBe(400);
    expect(badDigest.json.errors).toEqual([expect.objectContaining({ field: 'path.digest' })]);
    expect((await call('GET', `/ledger/groups/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await call('GET', '/ledger/verification')).json).toMatchObject({ verified: true, problems: [] });
    // The sanitised data-dependent ε is published once, at the end, and is far below the guarantee
    // here: unanimous votes at σ = 2 leave almost no doubt about each label.
    const published = await untilPublished(job.json.id);
    expect(published.dataDependentNote).toBeNull();
    expect(published.epsilonDataDependentSanitized).toBeGreaterThan(0);
    expect(published.epsilonDataDependentSanitized).toBeLessThan(published.participants[0].epsilonCharged);
    expect((await untilPublished(job.json.id)).epsilonDataDependentSanitized).toBe(published.epsilonDataDependentSanitized);
    // The student is trained in a worker from the released labels and served in tfjs layout.
    const student = await untilStudent(job.json.id);
    expect(student).toMatchObject({ status: 'ready', metrics: { labelled: done.answered } });
    expect(student.metrics.holdoutAccuracy).toBeGreaterThanOrEqual(0.9);
    const modelJson = (await call('GET', `/jobs/${job.json.id}/student/model.json`)).json;
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    const weights = await fetch(`${running.baseUrl}/jobs/${job.json.id}/student/weights.bin`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect((await weights.arrayBuffer()).byteLength).toBe(student.parameters * 4);
    // No label without a charge: every released batch has one charge per participant.
    const orphans = await sql.query(
      `SELECT b.seq FROM batches b WHERE b.job_id = $1 AND b.status = 'released'
          AND (SELECT count(*) FROM ledger_entries e WHERE e.job_id = $1::text AND e.batch_id = 'batch-' || b.seq) <> 3`,
      [job.json.id],
    );
    expect(orphans.rows).toEqual([]);
  });

  it('handles an agent that stops answering: retried uncharged below minTeachers, aggregated with those present above it', async () => {
    // minTeachers 30: without the third institution the batch cannot be aggregated; it is retried,
    // and nothing is charged for the failed attempt.
    const strict = await createJob(institutions, { queries: 10, batchSize: 10, batchDeadlineMs: 1500, minTeachers: 30 });
    await call('POST', `/jobs/${strict.json.id}/start`);
    for (const agent of agents.slice(0, 2)) {
      const batch = (await agent.nextBatch())!;
      expect((await answerHonestly(agent, batch)).status).toBe(202);
    }
    let state: any;
    for (let i = 0; i < 100; i++) {
      const [batch] = (await sql.query(`SELECT attempt, status FROM batches WHERE job_id = $1`, [strict.json.id])).rows;
      if (batch.attempt === 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await sql.query(`SELECT attempt, status FROM batches WHERE job_id = $1`, [strict.json.id])).rows[0]).toEqual({
      attempt: 2,
      status: 'open',
    });
    expect((await sql.query(`SELECT count(*)::int AS c FROM ledger_entries WHERE job_id = $1`, [strict.json.id])).rows[0].c).toBe(0);
    // Everyone answers the second attempt: released, each charged once.
    state = await answerAll(agents, strict.json.id);
    expect(state).toMatchObject({ status: 'completed', released: 10 });
    expect(state.participants.map((p: any) => p.charges)).toEqual([1, 1, 1]);

    // minTeachers 20: at the deadline the two that answered are enough; the silent one is not charged.
    const lenient = await createJob(institutions, { queries: 10, batchSize: 10, batchDeadlineMs: 1500, minTeachers: 20 });
    await call('POST', `/jobs/${lenient.json.id}/start`);
    for (const agent of agents.slice(0, 2)) {
      const batch = (await agent.nextBatch())!;
      expect((await answerHonestly(agent, batch)).status).toBe(202);
    }
    for (let i = 0; i < 100; i++) {
      state = (await call('GET', `/jobs/${lenient.json.id}`)).json;
      if (state.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(state.status).toBe('completed');
    const silent = agents[2];
    const charges = Object.fromEntries(state.participants.map((p: any) => [p.institutionId, p.charges]));
    expect(Object.values(charges).sort()).toEqual([0, 1, 1]);
    expect(await silent.nextBatch()).toBeNull();
  });

  it('asks evaluation queries on the holdout: charged like the others, never learned from, and the released labels measured', async () => {
    // Separate institutions (declaring their teachers), agents and task, so the budgets above are untouched.
    const { sites, siteAgents: evalAgents } = await enrolledSites(['Eval North', 'Eval South', 'Eval East']);
    const evalTask = await toyTask('toy-eval');
    const pool = Array.from({ length: 20 }, (_, i) => example(i));
    expect((await call('POST', `/tasks/${evalTask}/pool`, { split: 'public', examples: pool })).status).toBe(201);
    // 12 holdout examples; every 4th carries a label other than the one its features say, so the
    // released labels (which follow the teachers, which follow the features) are right on 9 of 12.
    const holdout = Array.from({ length: 12 }, (_, h) => example(h * 5));
    const truth = holdout.map((e, h) => (h % 4 === 3 ? (e.indexOf(1) + 1) % 3 : e.indexOf(1)));
    expect((await call('POST', `/tasks/${evalTask}/pool`, { split: 'holdout', examples: holdout, labels: truth })).status).toBe(201);

    const jobs = await count('jobs');
    const tooMany = await createJob(sites, { taskId: evalTask, queries: 20, evaluationQueries: 13 });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.errors.map((e: { field: string }) => e.field)).toEqual(['body.evaluationQueries']);
    expect(await count('jobs')).toBe(jobs);

    const job = await createJob(sites, { taskId: evalTask, queries: 20, evaluationQueries: 12 });
    expect(job.status).toBe(201);
    expect(job.json).toMatchObject({ queries: 20, evaluationQueries: 12 });
    await call('POST', `/jobs/${job.json.id}/start`);
    // The second batch holds pool queries 16–19, then the holdout examples, features only.
    const first = (await evalAgents[0].nextBatch())!;
    expect(first.queries.map((q) => q.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    for (const agent of evalAgents) {
      const batch = agent === evalAgents[0] ? first : (await agent.nextBatch())!;
      expect((await answerHonestly(agent, batch)).status).toBe(202);
    }
    // The next batch opens once the first is released.
    let second = await evalAgents[0].nextBatch();
    for (let i = 0; i < 100 && !second; i++) {
      await new Promise((r) => setTimeout(r, 50));
      second = await evalAgents[0].nextBatch();
    }
    if (!second) throw new Error('the second batch did not open');
    expect(second.queries.map((q) => q.index)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
    expect(second.queries.slice(4).map((q) => q.features)).toEqual(holdout);
    expect(JSON.stringify(second.queries)).not.toMatch(/label/);
    const done = await answerAll(evalAgents, job.json.id);
    expect(done).toMatchObject({ status: 'completed', released: 32 });

    const labels = (await call('GET', `/jobs/${job.json.id}/labels`)).json as any[];
    expect(labels).toHaveLength(32);
    expect(labels.filter((l) => l.split === 'holdout').map((l) => l.exampleIndex)).toEqual(holdout.map((_, h) => h));
    expect(labels.filter((l) => l.split === 'public').map((l) => l.exampleIndex)).toEqual(pool.map((_, i) => i));
    const evaluated = labels.filter((l) => l.split === 'holdout');
    expect(evaluated.every((l) => l.answered)).toBe(true);
    // Every query is charged, the evaluation ones included.
    for (const id of sites) {
      const entries = (await call('GET', `/budgets/${id}/entries?limit=100`)).json.entries as any[];
      const charges = entries.filter((e) => e.kind === 'charge' && e.jobId === job.json.id);
      expect(charges.reduce((n, c) => n + c.event.queries, 0)).toBe(32);
    }

    const student = await untilStudent(job.json.id);
    // Trained on the answered pool labels only (16 of 20: every 5th pool query is contested).
    const poolAnswered = labels.filter((l) => l.split === 'public' && l.answered).length;
    expect(poolAnswered).toBe(16);
    expect(student).toMatchObject({ status: 'ready', metrics: { labelled: poolAnswered } });
    const { evaluation, inference } = student.metrics;
    const labelAccuracy = evaluated.filter((l) => l.label === truth[l.exampleIndex]).length / evaluated.length;
    expect(labelAccuracy).toBe(0.75);
    expect(evaluation).toMatchObject({ queries: 12, answered: 12, labelAccuracy });
    expect(evaluation.studentAccuracy).toBeGreaterThanOrEqual(0.5);
    expect(evaluation.studentToEnsembleAccuracy).toBeCloseTo(evaluation.studentAccuracy / labelAccuracy, 12);
    expect(inference).toEqual({
      studentParameters: student.parameters,
      ensembleTeachers: 3 * TEACHERS,
      ensembleInstitutions: 3,
      modelEvaluationsPerPrediction: { student: 1, ensemble: 3 * TEACHERS },
    });
  });

  it('asks its pool queries in rounds chosen by a student when querySelection is set', async () => {
    const { sites, siteAgents: roundAgents } = await enrolledSites(['Rounds North', 'Rounds South', 'Rounds East']);
    const roundsTask = await toyTask('toy-rounds');
    const pool = Array.from({ length: 40 }, (_, i) => example(i));
    expect((await call('POST', `/tasks/${roundsTask}/pool`, { split: 'public', examples: pool })).status).toBe(201);

    const jobs = await count('jobs');
    for (const [selection, field] of [
      [{ kind: 'student_margin', rounds: 25 }, 'body.querySelection.rounds'],
      [{ kind: 'student_margin', rounds: 1 }, 'body.querySelection.rounds'],
      [{ kind: 'student_margin', rounds: 3, targetMargin: 1.5 }, 'body.querySelection.targetMargin'],
      [{ kind: 'uncertainty', rounds: 3 }, 'body.querySelection.kind'],
    ] as const) {
      const refused = await createJob(sites, { taskId: roundsTask, queries: 24, querySelection: selection });
      expect(refused.status).toBe(400);
      expect(refused.json.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    expect(await count('jobs')).toBe(jobs);

    const job = await createJob(sites, { taskId: roundsTask, queries: 24, querySelection: { kind: 'student_margin', rounds: 3 } });
    expect(job.status).toBe(201);
    expect(job.json).toMatchObject({
      queries: 24,
      querySelection: { kind: 'student_margin', rounds: 3, targetMargin: 0.5 },
      poolQueriesChosen: 8,
    });
    await call('POST', `/jobs/${job.json.id}/start`);
    // The first round is the first 8 pool examples, in a batch of its own (batch size 16).
    const sent = new Map<number, number[]>();
    for (let round = 0; round < 400; round++) {
      const state = (await call('GET', `/jobs/${job.json.id}`)).json;
      if (['completed', 'failed', 'cancelled'].includes(state.status)) break;
      for (const agent of roundAgents) {
        const batch = await agent.nextBatch();
        if (!batch || batch.jobId !== job.json.id) continue;
        if (sent.size === 0) expect(batch.queries.map((q) => q.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        for (const q of batch.queries) sent.set(q.index, q.features);
        expect([202, 409]).toContain((await answerHonestly(agent, batch)).status);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = (await call('GET', `/jobs/${job.json.id}`)).json;
    expect(done).toMatchObject({ status: 'completed', released: 24, poolQueriesChosen: 24 });
    // Rounds of 8, each waiting for its student: three batches, not two.
    const entries = (await call('GET', `/budgets/${sites[0]}/entries?limit=100`)).json.entries as any[];
    const charges = entries.filter((e) => e.kind === 'charge' && e.jobId === job.json.id);
    expect(charges.map((c) => c.event.queries)).toEqual([8, 8, 8]);

    const labels = (await call('GET', `/jobs/${job.json.id}/labels`)).json as any[];
    expect(labels.map((l) => l.queryIndex)).toEqual(Array.from({ length: 24 }, (_, q) => q));
    const examples = labels.map((l) => l.exampleIndex);
    expect(examples.slice(0, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(examples).size).toBe(24);
    expect(examples.every((e) => e >= 0 && e < 40)).toBe(true);
    // Each query's features were those of the example chosen for it.
    for (const l of labels) expect(sent.get(l.queryIndex)).toEqual(pool[l.exampleIndex]);

    // The final student learned from the answered queries of all three rounds.
    const student = await untilStudent(job.json.id);
    expect(student).toMatchObject({ status: 'ready', metrics: { labelled: labels.filter((l) => l.answered).length } });

    // A first round with nothing answered (every example contested): no student can be trained
    // yet, so the next round is the next pool examples in order.
    const contestedTask = await toyTask('toy-rounds-contested');
    const contestedPool = [
      ...Array.from({ length: 8 }, (_, i) => example(5 * i + 4)), // flagged: the teachers split 4/3/3
      ...Array.from({ length: 16 }, (_, i) => example(5 * i)),
    ];
    expect((await call('POST', `/tasks/${contestedTask}/pool`, { split: 'public', examples: contestedPool })).status).toBe(201);
    const second = await createJob(sites, {
      taskId: contestedTask,
      queries: 16,
      querySelection: { kind: 'student_margin', rounds: 2 },
    });
    await call('POST', `/jobs/${second.json.id}/start`);
    expect(await answerAll(roundAgents, second.json.id)).toMatchObject({ status: 'completed', released: 16 });
    const secondLabels = (await call('GET', `/jobs/${second.json.id}/labels`)).json as any[];
    expect(secondLabels.slice(0, 8).every((l) => !l.answered)).toBe(true);
    expect(secondLabels.map((l) => l.exampleIndex)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('stops an institution whose cap is reached mid-job; the job finishes with the others', async () => {
    const job = await createJob(institutions);
    expect(job.status).toBe(201);
    const started = await call('POST', `/jobs/${job.json.id}/start`);
    expect(started.json, JSON.stringify(started.json)).toMatchObject({ status: 'running' });
    // Hospital East's cap is lowered to what it has spent: no further batch fits.
    const east = institutions[2];
    const spent = (await call('GET', `/budgets/${east}`)).json.epsilonSpent as number;
    expect((await call('PATCH', `/budgets/${east}/cap`, { epsilonCap: spent, reason: 'board froze further spending' })).status).toBe(200);
    const done = await answerAll(agents, job.json.id);
    expect(done.status).toBe('completed');
    const eastRow = done.participants.find((p: any) => p.institutionId === east);
    expect(eastRow).toMatchObject({ status: 'exhausted', charges: 0 });
    expect(done.participants.filter((p: any) => p.charges === 3)).toHaveLength(2);
    expect((await call('GET', `/budgets/${east}`)).json.epsilonSpent).toBe(spent);
    expect((await call('GET', '/ledger/verification')).json.verified).toBe(true);
  });
});
