import { base64ToBytes, bytesToBase64, generateIdentity, verify } from '@concord/crypto';
import { describe, expect, it } from 'vitest';
import {
  buildEnrollmentRequest,
  buildKeyRotationRequest,
  enrollmentProofMessage,
  enrollmentTokenSha256,
  keyRotationProofMessage,
  validateEnrollmentRequest,
  validateEnrollmentResponse,
  validateKeyRotationRequest,
  verifyEnrollmentProof,
  verifyKeyRotationProof,
} from './enrollment';

const TOKEN = `cet_${'A'.repeat(43)}`;
const KEY_A = bytesToBase64(new Uint8Array(32).fill(1));
const KEY_B = bytesToBase64(new Uint8Array(32).fill(2));
const KEY_C = bytesToBase64(new Uint8Array(32).fill(3));

function fields(result: { ok: boolean; errors?: { field: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => e.field);
}

describe('enrollment proof', () => {
  it('hashes the token as SHA-256 of its UTF-8 bytes (checked with sha256sum)', () => {
    expect(enrollmentTokenSha256(TOKEN)).toBe('65cb76227b0d0dffed12e7e80e7c41805ceb824b660dd6b2c9d52cc48f931799');
  });

  it('signs a domain label followed by the canonical JSON of the claims, keys sorted', () => {
    const message = enrollmentProofMessage({
      coordinatorSigningPublicKey: KEY_A,
      tokenSha256: 'ab'.repeat(32),
      signingPublicKey: KEY_B,
      boxPublicKey: KEY_C,
      teachers: 4,
    });
    expect(new TextDecoder().decode(message)).toBe(
      'concord-enrollment-v1\n' +
        `{"agentName":null,"boxPublicKey":"${KEY_C}","coordinatorSigningPublicKey":"${KEY_A}","protocolVersion":1,` +
        `"signingPublicKey":"${KEY_B}","teachers":4,"tokenSha256":"${'ab'.repeat(32)}"}`,
    );
  });

  it('builds a request whose proof verifies for this coordinator only, and for these claims only', () => {
    const identity = generateIdentity();
    const request = buildEnrollmentRequest({
      token: TOKEN,
      coordinatorSigningPublicKey: KEY_A,
      identity,
      agentName: 'gpu-01',
      teachers: 5,
    });
    expect(validateEnrollmentRequest(request)).toEqual({ ok: true, value: request });
    expect(verifyEnrollmentProof(request, KEY_A)).toBe(true);
    expect(verifyEnrollmentProof(request, KEY_B)).toBe(false);
    expect(verifyEnrollmentProof({ ...request, teachers: 6 }, KEY_A)).toBe(false);
    expect(verifyEnrollmentProof({ ...request, agentName: undefined }, KEY_A)).toBe(false);
    expect(verifyEnrollmentProof({ ...request, token: `cet_${'B'.repeat(43)}` }, KEY_A)).toBe(false);
    expect(verifyEnrollmentProof({ ...request, boxPublicKey: KEY_C }, KEY_A)).toBe(false);
    // The proof is an ordinary Ed25519 signature of the documented message.
    const message = enrollmentProofMessage({
      coordinatorSigningPublicKey: KEY_A,
      tokenSha256: enrollmentTokenSha256(TOKEN),
      signingPublicKey: request.signingPublicKey,
      boxPublicKey: request.boxPublicKey,
      agentName: 'gpu-01',
      teachers: 5,
    });
    expect(verify(message, base64ToBytes(request.proof, 'proof', 64), identity.signing.publicKey)).toBe(true);
  });

  it('a rotation proof is made by the new key and binds the agent and its previous key', () => {
    const next = generateIdentity();
    const context = {
      coordinatorSigningPublicKey: KEY_A,
      agentId: '6f1c1f9e-2a7e-4b2c-9d1e-0c8a7b6d5e4f',
      previousSigningPublicKey: KEY_B,
    };
    const request = buildKeyRotationRequest({ ...context, identity: next });
    expect(validateKeyRotationRequest(request)).toEqual({ ok: true, value: request });
    expect(verifyKeyRotationProof(request, context)).toBe(true);
    expect(verifyKeyRotationProof(request, { ...context, agentId: 'another' })).toBe(false);
    expect(verifyKeyRotationProof(request, { ...context, previousSigningPublicKey: KEY_C })).toBe(false);
    expect(new TextDecoder().decode(keyRotationProofMessage({ ...context, signingPublicKey: KEY_C, boxPublicKey: KEY_A }))).toMatch(
      /^concord-key-rotation-v1\n\{"agentId":/,
    );
  });
});

describe('validation', () => {
  const good = buildEnrollmentRequest({ token: TOKEN, coordinatorSigningPublicKey: KEY_A, identity: generateIdentity() });

  it('names every bad field of an enrollment request', () => {
    const result = validateEnrollmentRequest({
      ...good,
      protocolVersion: 2,
      token: 'abc',
      signingPublicKey: 'AAAA',
      boxPublicKey: bytesToBase64(new Uint8Array(32)),
      agentName: '   ',
      teachers: 1.5,
      proof: null,
      surprise: 1,
    });
    expect(fields(result).sort()).toEqual(
      ['agentName', 'boxPublicKey', 'proof', 'protocolVersion', 'signingPublicKey', 'surprise', 'teachers', 'token'].sort(),
    );
    expect(fields(validateEnrollmentRequest([]))).toEqual(['(body)']);
  });

  it('refuses non-canonical base64 and equal signing and box keys', () => {
    const nonCanonical = `${KEY_A.slice(0, 42)}B=`; // sets the two padding bits
    expect(fields(validateEnrollmentRequest({ ...good, signingPublicKey: nonCanonical }))).toEqual(['signingPublicKey']);
    expect(fields(validateEnrollmentRequest({ ...good, boxPublicKey: good.signingPublicKey }))).toEqual(['boxPublicKey']);
    expect(fields(validateEnrollmentRequest({ ...good, teachers: 10_001 }))).toEqual(['teachers']);
  });

  it('checks the coordinator answer before an agent stores it', () => {
    const answer = {
      protocolVersion: 1,
      agentId: '6f1c1f9e-2a7e-4b2c-9d1e-0c8a7b6d5e4f',
      institutionId: '0f1c1f9e-2a7e-4b2c-9d1e-0c8a7b6d5e4f',
      coordinatorSigningPublicKey: KEY_A,
      coordinatorBoxPublicKey: KEY_B,
    };
    expect(validateEnrollmentResponse(answer)).toEqual({ ok: true, value: answer });
    expect(fields(validateEnrollmentResponse({ ...answer, agentId: 'x', coordinatorBoxPublicKey: undefined }))).toEqual([
      'agentId',
      'coordinatorBoxPublicKey',
    ]);
    // The box key signature is passed on when well-formed (the agent then verifies it) and refused when not.
    const signature = bytesToBase64(new Uint8Array(64).fill(7));
    expect(validateEnrollmentResponse({ ...answer, coordinatorBoxKeySignature: signature })).toEqual({
      ok: true,
      value: { ...answer, coordinatorBoxKeySignature: signature },
    });
    expect(fields(validateEnrollmentResponse({ ...answer, coordinatorBoxKeySignature: 'nope' }))).toEqual(['coordinatorBoxKeySignature']);
  });
});
