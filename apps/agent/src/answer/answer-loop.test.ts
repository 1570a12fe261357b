import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64, generateIdentity, openEnvelope } from '@concord/crypto';
import { answerContext, type BatchAnswerRequest, type BatchAssignment, signBoxKeyStatement } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../store/audit-log';
import { PendingAnswerStore } from '../store/pending-answer';
import { agentPaths } from '../store/paths';
import { LocalPrivacyLedger } from '../store/privacy-ledger';
import type { CoordinatorClient, SubmitOutcome } from '../transport/coordinator-client';
import { type AnswerLoopDeps, runAnswerLoop } from './answer-loop';

const coordinator = generateIdentity();
const coordinatorSigningPublicKey = bytesToBase64(coordinator.signing.publicKey);
const coordinatorBoxPublicKey = bytesToBase64(coordinator.box.publicKey);
/** What the genuine coordinator serves beside its box key: its signing key's signature of the box key statement. */
const coordinatorBoxKeySignature = signBoxKeyStatement(
  { coordinatorSigningPublicKey, boxPublicKey: coordinatorBoxPublicKey },
  coordinator.signing.secretKey,
);

function batch(seq: number, overrides: Partial<BatchAssignment> = {}): BatchAssignment {
  return {
    protocolVersion: 1,
    jobId: 'job-1',
    batchId: `b-${seq}`,
    seq,
    attempt: 1,
    deadline: '',
    mechanism: { kind: 'gnmax', sigma: 40 },
    answerKind: 'votes',
    classes: ['a', 'b'],
    inputSpec: {},
    delta: 1e-5,
    teachers: null,
    queries: [
      { index: 0, features: [1] },
      { index: 1, features: [-1] },
    ],
    ...overrides,
  };
}

/** Two teachers: both vote a for positive features; for negative ones teacher 0 votes b, teacher 1 a. */
const teachers = {
  description: 'test',
  knownCount: 2,
  predict: (features: number[][]) =>
    Promise.resolve([features.map((f) => (f[0] > 0 ? [0.9, 0.1] : [0.2, 0.8])), features.map(() => [0.6, 0.4])]),
};

async function setup(batches: BatchAssignment[], verdicts: SubmitOutcome[]) {
  const paths = agentPaths(mkdtempSync(join(tmpdir(), 'concord-loop-')));
  const sent: { batchId: string; body: BatchAnswerRequest; ledgerLines: number; pendingOnDisk: boolean }[] = [];
  const polls: number[] = [];
  const client = {
    baseUrl: 'http://c',
    nextBatch: () => {
      polls.push(Date.now());
      return Promise.resolve(batches.shift() ?? null);
    },
    submitAnswer: (batchId: string, body: BatchAnswerRequest) => {
      sent.push({
        batchId,
        body,
        ledgerLines: readFileSync(paths.ledger, 'utf8').trim().split('\n').length,
        pendingOnDisk: existsSync(paths.pending),
      });
      return Promise.resolve(verdicts.shift() ?? { outcome: 'accepted', httpStatus: 202 });
    },
  } as unknown as CoordinatorClient;
  const deps: AnswerLoopDeps = {
    client,
    identity: generateIdentity(),
    enrollment: {
      coordinatorUrl: 'http://c',
      agentId: 'a',
      institutionId: 'i',
      coordinatorSigningPublicKey,
      coordinatorBoxPublicKey,
      coordinatorBoxKeySignature,
      teachers: 2,
      enrolledAt: '',
    },
    cap: { epsilon: 10, delta: 1e-5, setAt: '' },
    ledger: await LocalPrivacyLedger.open(paths.ledger),
    audit: new AuditLog(paths.audit),
    pending: new PendingAnswerStore(paths.pending, paths.rejected),
    teachers,
    once: true,
    pollIntervalMs: 1,
    signal: new AbortController().signal,
    log: () => undefined,
  };
  return { paths, sent, polls, deps };
}

describe('the answer loop', () => {
  it('charges and persists the sealed answer before sending it, and sends one histogram row per query', async () => {
    const { paths, sent, deps } = await setup([batch(1), batch(2)], []);
    expect(await runAnswerLoop(deps)).toEqual({ answered: 2, resent: 0, stoppedBy: 'idle' });
    expect(sent.map((s) => [s.batchId, s.ledgerLines, s.pendingOnDisk])).toEqual([
      ['b-1', 1, true],
      ['b-2', 2, true],
    ]);
    expect(existsSync(paths.pending)).toBe(false);
    // Sealed to the genuine coordinator box key: it opens with the coordinator's secret key.
    for (const s of sent) {
      const opened = openEnvelope(
        s.body.envelope,
        coordinator.box.secretKey,
        deps.identity.signing.publicKey,
        answerContext('job-1', s.batchId, 1, s.body.nonce),
      );
      expect(opened.payload).toMatchObject({ batchId: s.batchId, teachers: 2 });
    }
    const sealed = (await deps.audit.read()).filter((r) => r.type === 'sealed');
    expect(sealed.map((r) => r.type === 'sealed' && r.rows)).toEqual([
      [
        [2, 0],
        [1, 1],
      ],
      [
        [2, 0],
        [1, 1],
      ],
    ]);
  });

  describe('seals only to a box key signed by the pinned coordinator signing key', () => {
    const attacker = generateIdentity();
    const attackerBoxPublicKey = bytesToBase64(attacker.box.publicKey);
    const cases: [string, { coordinatorBoxPublicKey: string; coordinatorBoxKeySignature?: string }, RegExp][] = [
      [
        'a substituted box key (a valid X25519 key) beside the genuine signature',
        { coordinatorBoxPublicKey: attackerBoxPublicKey, coordinatorBoxKeySignature },
        /is NOT signed by the pinned coordinator signing key/,
      ],
      [
        "a substituted box key signed by the attacker's own signing key",
        {
          coordinatorBoxPublicKey: attackerBoxPublicKey,
          coordinatorBoxKeySignature: signBoxKeyStatement(
            { coordinatorSigningPublicKey: bytesToBase64(attacker.signing.publicKey), boxPublicKey: attackerBoxPublicKey },
            attacker.signing.secretKey,
          ),
        },
        /is NOT signed by the pinned coordinator signing key/,
      ],
      [
        'the genuine box key with a corrupted signature',
        { coordinatorBoxPublicKey, coordinatorBoxKeySignature: bytesToBase64(new Uint8Array(64).fill(9)) },
        /NOT signed/,
      ],
      ['a box key without a signature', { coordinatorBoxPublicKey, coordinatorBoxKeySignature: undefined }, /without a signature/],
    ];
    for (const [name, enrollment, message] of cases) {
      it(`refuses ${name}: nothing charged, sealed, persisted or sent`, async () => {
        const { paths, sent, polls, deps } = await setup([batch(1)], []);
        deps.enrollment = { ...deps.enrollment, ...enrollment };
        const error = await runAnswerLoop(deps).then(
          () => undefined,
          (e: unknown) => e as { exitCode?: number; message: string },
        );
        expect(error?.exitCode).toBe(2);
        expect(error?.message).toMatch(message);
        expect(error?.message).toContain('nothing');
        expect(polls).toHaveLength(0);
        expect(sent).toHaveLength(0);
        expect(deps.ledger.all).toHaveLength(0);
        expect(await deps.audit.read()).toEqual([]);
        expect(existsSync(paths.pending)).toBe(false);
      });
    }
  });

  it('refuses a malformed batch before charging anything', async () => {
    const { sent, deps } = await setup([batch(1, { mechanism: { kind: 'gnmax', sigma: -1 } })], []);
    await expect(runAnswerLoop(deps)).rejects.toThrow(/malformed.*sigma must be positive/);
    expect(deps.ledger.all).toHaveLength(0);
    expect(sent).toHaveLength(0);
  });

  it('refuses to change its teacher count within a job', async () => {
    const { sent, deps } = await setup([batch(1, { teachers: 3 })], []);
    await expect(runAnswerLoop(deps)).rejects.toMatchObject({ exitCode: 2 });
    expect(sent).toHaveLength(0);
  });

  it('moves on from a closed batch, and keeps a rejected answer aside with exit status 4', async () => {
    const { paths, deps } = await setup(
      [batch(1), batch(2)],
      [
        { outcome: 'batch_closed', httpStatus: 409, detail: 'Batch closed' },
        { outcome: 'rejected', httpStatus: 400, detail: 'payload.rows[0]: bad', retryLater: false },
      ],
    );
    await expect(runAnswerLoop(deps)).rejects.toMatchObject({ exitCode: 4 });
    expect(existsSync(paths.pending)).toBe(false);
    expect(readdirSync(paths.rejected)).toHaveLength(1);
    expect((await deps.audit.read()).filter((r) => r.type === 'acknowledged').map((r) => r.type === 'acknowledged' && r.outcome)).toEqual([
      'batch_closed',
      'rejected',
    ]);
  });
});
