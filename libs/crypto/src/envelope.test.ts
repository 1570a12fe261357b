import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { bytesToBase64, concatBytes, utf8ToBytes } from './bytes';
import { canonicalJsonBytes } from './canonical-json';
import {
  ENVELOPE_ALG,
  type Envelope,
  type EnvelopeContext,
  EnvelopeError,
  type EnvelopeErrorCode,
  openEnvelope,
  sealAndSign,
} from './envelope';
import { generateIdentity } from './keys';
import { sign } from './signature';

const coordinator = generateIdentity();
const agent = generateIdentity();
const context: EnvelopeContext = { batchId: 'batch-42', nonce: 'n-7f3a9c', jobId: 'job-1' };
const histogram = {
  votes: [
    [3, 0, 7],
    [1, 9, 0],
  ],
  teachers: 10,
};

function seal(payload: Uint8Array | object = histogram, extra: Partial<EnvelopeContext> = {}): Envelope {
  return sealAndSign({
    payload,
    recipientBoxPublicKey: coordinator.box.publicKey,
    senderSigning: agent.signing.secretKey,
    context: { ...context, ...extra } as EnvelopeContext,
  });
}

function open(envelope: unknown, expected: EnvelopeContext = context) {
  return openEnvelope(envelope, coordinator.box.secretKey, agent.signing.publicKey, expected);
}

function expectEnvelopeError(fn: () => unknown, code: EnvelopeErrorCode, field: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EnvelopeError);
  expect((caught as EnvelopeError).code).toBe(code);
  expect((caught as EnvelopeError).field).toBe(field);
  expect((caught as Error).message.startsWith(`${field}: `)).toBe(true);
}

/** Signs an envelope's fields anew, as anyone holding `secretKey` could. */
function resign(envelope: Envelope, secretKey: Uint8Array, newContext: EnvelopeContext): Envelope {
  const signed = concatBytes(
    utf8ToBytes('concord-envelope-v1\n'),
    canonicalJsonBytes({
      version: 1,
      alg: ENVELOPE_ALG,
      ephemeralPublicKey: envelope.ephemeralPublicKey,
      nonce: envelope.nonce,
      ciphertext: envelope.ciphertext,
      recipientBoxPublicKey: bytesToBase64(coordinator.box.publicKey),
      context: newContext,
    }),
  );
  return { ...envelope, signature: bytesToBase64(sign(signed, secretKey)) };
}

function flip(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] ^= 0x01;
  return bytes.toString('base64');
}

describe('sealAndSign / openEnvelope', () => {
  it('round-trips a JSON payload', () => {
    const envelope = seal();
    expect(envelope.version).toBe(1);
    expect(envelope.alg).toBe('x25519-xsalsa20-poly1305+ed25519');
    expect(Buffer.from(envelope.nonce, 'base64')).toHaveLength(24);
    expect(Buffer.from(envelope.ephemeralPublicKey, 'base64')).toHaveLength(32);
    expect(Buffer.from(envelope.signature, 'base64')).toHaveLength(64);
    expect(envelope.signerPublicKey).toBe(bytesToBase64(agent.signing.publicKey));
    // Survives the wire.
    expect(open(JSON.parse(JSON.stringify(envelope)))).toEqual({ kind: 'json', payload: histogram });
  });

  it('round-trips raw bytes, including an empty payload', () => {
    const bytes = Uint8Array.from([0, 1, 2, 255]);
    expect(open(seal(bytes))).toEqual({ kind: 'bytes', payload: bytes });
    expect(open(seal(new Uint8Array(0)))).toEqual({ kind: 'bytes', payload: new Uint8Array(0) });
  });

  it('uses a fresh ephemeral key and nonce for every envelope', () => {
    const a = seal();
    const b = seal();
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it('can leave out the signer public key', () => {
    const envelope = sealAndSign({
      payload: histogram,
      recipientBoxPublicKey: coordinator.box.publicKey,
      senderSigning: agent.signing.secretKey,
      context,
      includeSignerPublicKey: false,
    });
    expect(envelope.signerPublicKey).toBeUndefined();
    expect(open(envelope).payload).toEqual(histogram);
  });

  it('cannot be opened by another recipient', () => {
    const stranger = generateIdentity();
    expectEnvelopeError(
      () => openEnvelope(seal(), stranger.box.secretKey, agent.signing.publicKey, context),
      'bad_signature', // the signature binds the recipient's box key
      'envelope.signature',
    );
  });

  it('is rejected under another expected signer', () => {
    const other = generateIdentity();
    expectEnvelopeError(
      () => openEnvelope(seal(), coordinator.box.secretKey, other.signing.publicKey, context),
      'signer_mismatch',
      'envelope.signerPublicKey',
    );
    const { signerPublicKey: _dropped, ...anonymous } = seal();
    expectEnvelopeError(
      () => openEnvelope(anonymous, coordinator.box.secretKey, other.signing.publicKey, context),
      'bad_signature',
      'envelope.signature',
    );
  });

  it('cannot be replayed into another batch or with another nonce', () => {
    const envelope = seal();
    expectEnvelopeError(() => open(envelope, { ...context, batchId: 'batch-43' }), 'bad_signature', 'envelope.signature');
    expectEnvelopeError(() => open(envelope, { ...context, nonce: 'n-other' }), 'bad_signature', 'envelope.signature');
    expectEnvelopeError(() => open(envelope, { ...context, jobId: 'job-2' }), 'bad_signature', 'envelope.signature');
    const { jobId: _omitted, ...withoutJob } = context;
    expectEnvelopeError(() => open(envelope, withoutJob), 'bad_signature', 'envelope.signature');
  });

  it.each(['ciphertext', 'nonce', 'ephemeralPublicKey', 'signature'] as const)('rejects a tampered %s', (field) => {
    const envelope = seal();
    for (const index of [0, 5]) {
      expectEnvelopeError(() => open({ ...envelope, [field]: flip(envelope[field], index) }), 'bad_signature', 'envelope.signature');
    }
  });

  it('rejects a wrong or missing version or alg', () => {
    const envelope = seal();
    expectEnvelopeError(() => open({ ...envelope, version: 2 }), 'unsupported_version', 'envelope.version');
    expectEnvelopeError(() => open({ ...envelope, version: '1' }), 'malformed', 'envelope.version');
    const { version: _version, ...unversioned } = envelope;
    expectEnvelopeError(() => open(unversioned), 'malformed', 'envelope.version');
    expectEnvelopeError(() => open({ ...envelope, alg: 'x25519-aesgcm' }), 'unsupported_alg', 'envelope.alg');
  });

  it('validates every field, naming it', () => {
    const envelope = seal();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...envelope, nonce: `${envelope.nonce.slice(0, -2)}!=` }, 'envelope.nonce'],
      [{ ...envelope, nonce: Buffer.alloc(12).toString('base64') }, 'envelope.nonce'],
      [{ ...envelope, ephemeralPublicKey: 42 }, 'envelope.ephemeralPublicKey'],
      [{ ...envelope, ephemeralPublicKey: Buffer.alloc(33).toString('base64') }, 'envelope.ephemeralPublicKey'],
      [{ ...envelope, ciphertext: 'not base64' }, 'envelope.ciphertext'],
      [{ ...envelope, ciphertext: Buffer.alloc(20).toString('base64') }, 'envelope.ciphertext'],
      [{ ...envelope, signature: envelope.signature.slice(4) }, 'envelope.signature'],
      [{ ...envelope, signerPublicKey: 'AAAA' }, 'envelope.signerPublicKey'],
      [{ ...envelope, extra: true }, 'envelope.extra'],
    ];
    for (const [input, field] of cases) expectEnvelopeError(() => open(input), 'malformed', field);
    expectEnvelopeError(() => open('{}'), 'malformed', 'envelope');
    expectEnvelopeError(() => open(null), 'malformed', 'envelope');
  });

  it('rejects wrong-length caller arguments with named errors', () => {
    expect(() =>
      sealAndSign({ payload: histogram, recipientBoxPublicKey: new Uint8Array(31), senderSigning: agent.signing.secretKey, context }),
    ).toThrow(/^recipientBoxPublicKey: expected 32 bytes, got 31$/);
    expect(() =>
      sealAndSign({ payload: histogram, recipientBoxPublicKey: coordinator.box.publicKey, senderSigning: new Uint8Array(32), context }),
    ).toThrow(/^senderSigning: expected 64 bytes, got 32$/);
    expect(() =>
      sealAndSign({
        payload: histogram,
        recipientBoxPublicKey: coordinator.box.publicKey,
        senderSigning: agent.signing.secretKey,
        context: { batchId: '', nonce: 'x' },
      }),
    ).toThrow(/^context\.batchId: /);
    expect(() => openEnvelope(seal(), new Uint8Array(64), agent.signing.publicKey, context)).toThrow(
      /^recipientBoxSecretKey: expected 32 bytes, got 64$/,
    );
    expect(() => openEnvelope(seal(), coordinator.box.secretKey, new Uint8Array(1), context)).toThrow(/^expectedSignerPublicKey: /);
  });

  it('refuses payloads canonical JSON cannot represent', () => {
    expect(() => seal({ votes: [NaN] })).toThrow(/^\$\.votes\[0\]: NaN/);
  });

  it("stops another agent from re-signing a victim's ciphertext as its own", () => {
    // The attacker strips the victim's signature and signs the same ciphertext, under its own key
    // and a context it controls, using the documented signed-bytes layout.
    const attacker = generateIdentity();
    const attackerContext: EnvelopeContext = { batchId: 'batch-42', nonce: 'n-attacker' };
    const { signerPublicKey: _victim, ...victims } = seal();
    const forged = resign(victims, attacker.signing.secretKey, attackerContext);
    // The outer signature is valid for the attacker, so only the sealed header catches it.
    expectEnvelopeError(
      () => openEnvelope(forged, coordinator.box.secretKey, attacker.signing.publicKey, attackerContext),
      'sealed_header_mismatch',
      'envelope.ciphertext',
    );
  });

  it('rejects a ciphertext re-signed for another context, even by its own signer', () => {
    const original = seal();
    const otherContext: EnvelopeContext = { batchId: 'batch-99', nonce: 'n-99' };
    const resigned = resign(original, agent.signing.secretKey, otherContext);
    expectEnvelopeError(() => open(resigned, otherContext), 'sealed_header_mismatch', 'envelope.ciphertext');
  });

  it('reports a validly signed ciphertext that does not decrypt', () => {
    const garbage = { ...seal(), ciphertext: Buffer.alloc(100, 7).toString('base64') };
    expectEnvelopeError(() => open(resign(garbage, agent.signing.secretKey, context)), 'decryption_failed', 'envelope.ciphertext');
  });

  it('decrypts with plain tweetnacl using the documented plaintext layout', () => {
    // An auditor holding the coordinator's box key needs nothing but nacl.box.open.
    const envelope = seal(Uint8Array.of(9, 8, 7));
    const plaintext = nacl.box.open(
      Buffer.from(envelope.ciphertext, 'base64'),
      Buffer.from(envelope.nonce, 'base64'),
      Buffer.from(envelope.ephemeralPublicKey, 'base64'),
      coordinator.box.secretKey,
    );
    expect(plaintext).not.toBeNull();
    const bytes = plaintext as Uint8Array;
    expect(bytes[0]).toBe(1);
    expect(bytes[1]).toBe(1);
    expect(bytes.subarray(2, 34)).toEqual(agent.signing.publicKey);
    expect(Array.from(bytes.subarray(66))).toEqual([9, 8, 7]);
  });
});
