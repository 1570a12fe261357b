import { bytesToBase64, bytesToUtf8, generateIdentity } from '@concord/crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { BOX_KEY_STATEMENT_LABEL, boxKeyId, boxKeyStatementMessage, signBoxKeyStatement, verifyBoxKeyStatement } from './box-key';

const coordinator = generateIdentity();
const claims = {
  coordinatorSigningPublicKey: bytesToBase64(coordinator.signing.publicKey),
  boxPublicKey: bytesToBase64(coordinator.box.publicKey),
};

describe('the coordinator box key statement', () => {
  it('is domain-separated and names the signing key, the box key and its id', () => {
    const text = bytesToUtf8(boxKeyStatementMessage(claims), 'statement');
    expect(BOX_KEY_STATEMENT_LABEL).toBe('concord-box-key-v1');
    expect(text).toBe(
      `concord-box-key-v1\n{"boxKeyId":"${boxKeyId(claims.boxPublicKey)}","boxPublicKey":"${claims.boxPublicKey}",` +
        `"coordinatorSigningPublicKey":"${claims.coordinatorSigningPublicKey}","protocolVersion":1}`,
    );
    expect(boxKeyId(claims.boxPublicKey)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies for the genuine box key under the signing key that signed it', () => {
    const signature = signBoxKeyStatement(claims, coordinator.signing.secretKey);
    expect(verifyBoxKeyStatement(claims, signature)).toBe(true);
    // A plain detached signature of the same bytes (what the ledger key's signBytes makes) is the same signature.
    expect(bytesToBase64(nacl.sign.detached(boxKeyStatementMessage(claims), coordinator.signing.secretKey))).toBe(signature);
  });

  it('refuses a substituted box key, a signature by another key, and anything malformed', () => {
    const signature = signBoxKeyStatement(claims, coordinator.signing.secretKey);
    const attacker = generateIdentity();
    const substituted = { ...claims, boxPublicKey: bytesToBase64(attacker.box.publicKey) };
    // A valid X25519 key with the genuine signature: refused.
    expect(verifyBoxKeyStatement(substituted, signature)).toBe(false);
    // The attacker's key, signed by the attacker's own signing key: refused under the pinned key.
    expect(verifyBoxKeyStatement(substituted, signBoxKeyStatement(substituted, attacker.signing.secretKey))).toBe(false);
    // …and accepted only under the attacker's key, which the pinned fingerprint would not match.
    const attackerClaims = { ...substituted, coordinatorSigningPublicKey: bytesToBase64(attacker.signing.publicKey) };
    expect(verifyBoxKeyStatement(attackerClaims, signBoxKeyStatement(attackerClaims, attacker.signing.secretKey))).toBe(true);
    // Another ledger-key signature (over other bytes) is not a box key statement.
    expect(verifyBoxKeyStatement(claims, bytesToBase64(nacl.sign.detached(new Uint8Array(32), coordinator.signing.secretKey)))).toBe(false);
    const flipped = Buffer.from(signature, 'base64');
    flipped[10] ^= 1;
    expect(verifyBoxKeyStatement(claims, flipped.toString('base64'))).toBe(false);
    for (const bad of [undefined, null, '', 'not base64', 42, bytesToBase64(new Uint8Array(63))]) {
      expect(verifyBoxKeyStatement(claims, bad)).toBe(false);
    }
    expect(verifyBoxKeyStatement({ ...claims, boxPublicKey: 'short' }, signature)).toBe(false);
    expect(verifyBoxKeyStatement({ ...claims, coordinatorSigningPublicKey: 'short' }, signature)).toBe(false);
  });
});
