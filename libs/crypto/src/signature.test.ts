import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes';
import { assertConsistentSigningKey, sign, signingPublicKeyOf, verify } from './signature';

const hex = (text: string): Uint8Array => hexToBytes(text, 'vector');
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

// RFC 8032 §7.1, TEST 1 and TEST 2.
const RFC8032 = [
  {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

/** Node private KeyObject from a 32-byte seed (PKCS#8 per RFC 8410). */
function nodePrivateKey(seed: Uint8Array) {
  const prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([prefix, seed]), format: 'der', type: 'pkcs8' });
}

describe('sign and verify', () => {
  it.each(RFC8032)('reproduces the RFC 8032 vector for public key $publicKey', (vector) => {
    const keyPair = nacl.sign.keyPair.fromSeed(hex(vector.seed));
    expect(keyPair.publicKey).toEqual(hex(vector.publicKey));
    const signature = sign(hex(vector.message), keyPair.secretKey);
    expect(signature).toEqual(hex(vector.signature));
    expect(verify(hex(vector.message), hex(vector.signature), hex(vector.publicKey))).toBe(true);
  });

  it('verifies tweetnacl signatures with node:crypto', () => {
    for (let i = 0; i < 20; i++) {
      const keyPair = nacl.sign.keyPair();
      const message = nacl.randomBytes(i * 17);
      const signature = nacl.sign.detached(message, keyPair.secretKey);
      expect(verify(message, signature, keyPair.publicKey)).toBe(true);
    }
  });

  it('produces signatures that tweetnacl and node:crypto both accept', () => {
    const keyPair = nacl.sign.keyPair();
    const message = utf8('ledger entry');
    const signature = sign(message, keyPair.secretKey);
    expect(nacl.sign.detached.verify(message, signature, keyPair.publicKey)).toBe(true);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), keyPair.publicKey]);
    const publicKeyObject = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(publicKeyObject.export({ format: 'jwk' }).x).toBe(Buffer.from(keyPair.publicKey).toString('base64url'));
  });

  it('verifies node:crypto signatures and tweetnacl agrees', () => {
    const seed = nacl.randomBytes(32);
    const keyPair = nacl.sign.keyPair.fromSeed(seed);
    const message = utf8('signed by OpenSSL');
    const signature = new Uint8Array(nodeSign(null, message, nodePrivateKey(seed)));
    expect(signature).toEqual(nacl.sign.detached(message, keyPair.secretKey)); // Ed25519 is deterministic
    expect(verify(message, signature, keyPair.publicKey)).toBe(true);
    expect(nacl.sign.detached.verify(message, signature, keyPair.publicKey)).toBe(true);
  });

  it('rejects a tampered message, signature or key', () => {
    const keyPair = nacl.sign.keyPair();
    const other = nacl.sign.keyPair();
    const message = utf8('batch 7 answer');
    const signature = sign(message, keyPair.secretKey);
    expect(verify(utf8('batch 8 answer'), signature, keyPair.publicKey)).toBe(false);
    for (const index of [0, 31, 32, 63]) {
      const tampered = signature.slice();
      tampered[index] ^= 0x01;
      expect(verify(message, tampered, keyPair.publicKey)).toBe(false);
    }
    expect(verify(message, signature, other.publicKey)).toBe(false);
  });

  it('rejects a malleated signature (S + L) that tweetnacl alone accepts', () => {
    const keyPair = nacl.sign.keyPair();
    const message = utf8('malleable?');
    const signature = sign(message, keyPair.secretKey);
    const L = (1n << 252n) + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
    let malleated = s + L;
    const forged = signature.slice();
    for (let i = 32; i < 64; i++) {
      forged[i] = Number(malleated & 0xffn);
      malleated >>= 8n;
    }
    expect(nacl.sign.detached.verify(message, forged, keyPair.publicKey)).toBe(true);
    expect(verify(message, forged, keyPair.publicKey)).toBe(false);
  });

  it('returns false for a public key that is not a curve point', () => {
    const keyPair = nacl.sign.keyPair();
    const message = utf8('x');
    const signature = sign(message, keyPair.secretKey);
    // y = 2 is not the y-coordinate of any point on edwards25519.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(verify(message, signature, notAPoint)).toBe(false);
  });

  it('throws named errors for wrong-length or wrong-type inputs', () => {
    const keyPair = nacl.sign.keyPair();
    const message = utf8('x');
    const signature = sign(message, keyPair.secretKey);
    expect(() => verify(message, signature.subarray(0, 63), keyPair.publicKey)).toThrow(/^signature: expected 64 bytes, got 63$/);
    expect(() => verify(message, signature, keyPair.publicKey.subarray(0, 31))).toThrow(/^publicKey: expected 32 bytes, got 31$/);
    expect(() => verify('x' as unknown as Uint8Array, signature, keyPair.publicKey)).toThrow(/^message: expected Uint8Array, got string$/);
    expect(() => sign(message, keyPair.secretKey.subarray(0, 32))).toThrow(/^secretKey: expected 64 bytes, got 32$/);
  });

  it('refuses to sign with a secret key whose embedded public key is wrong', () => {
    // Signing with a mismatched public key half lets two signatures reveal the private key.
    const keyPair = nacl.sign.keyPair();
    const spliced = keyPair.secretKey.slice();
    spliced.set(nacl.sign.keyPair().publicKey, 32);
    expect(() => sign(utf8('x'), spliced)).toThrow(/^secretKey: secret key does not match its embedded public key$/);
    expect(() => assertConsistentSigningKey(spliced, 'ledgerKey')).toThrow(/^ledgerKey: /);
    expect(signingPublicKeyOf(keyPair.secretKey)).toEqual(keyPair.publicKey);
  });

  it('re-checks a key that was found consistent and then modified in place', () => {
    const keyPair = nacl.sign.keyPair();
    expect(() => sign(utf8('x'), keyPair.secretKey)).not.toThrow();
    keyPair.secretKey.set(nacl.sign.keyPair().publicKey, 32);
    expect(() => sign(utf8('x'), keyPair.secretKey)).toThrow(/does not match/);
  });

  it('keeps verifying correctly when more keys are used than the cache holds', () => {
    // Keys made with node:crypto: 300 tweetnacl key generations would dominate the test's time.
    const message = utf8('many agents');
    const agents = Array.from({ length: 300 }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
      return { publicKey: new Uint8Array(raw), signature: new Uint8Array(nodeSign(null, message, privateKey)) };
    });
    for (let round = 0; round < 2; round++) {
      agents.forEach((agent, i) => {
        expect(verify(message, agent.signature, agent.publicKey)).toBe(true);
        expect(verify(message, agents[(i + 1) % agents.length].signature, agent.publicKey)).toBe(false);
      });
    }
  });
});

describe('sign through node:crypto', () => {
  it('produces exactly the bytes tweetnacl produces (Ed25519 is deterministic)', async () => {
    const nacl = (await import('tweetnacl')).default;
    for (let i = 0; i < 20; i++) {
      const pair = nacl.sign.keyPair();
      const message = nacl.randomBytes(i * 37);
      expect(Buffer.from(sign(message, pair.secretKey)).toString('hex')).toBe(
        Buffer.from(nacl.sign.detached(message, pair.secretKey)).toString('hex'),
      );
    }
  });

  it('follows a secret key whose bytes were changed in place', async () => {
    const nacl = (await import('tweetnacl')).default;
    const a = nacl.sign.keyPair();
    const b = nacl.sign.keyPair();
    const key = a.secretKey.slice();
    const message = new Uint8Array([1, 2, 3]);
    sign(message, key);
    key.set(b.secretKey);
    expect(Buffer.from(sign(message, key))).toEqual(Buffer.from(nacl.sign.detached(message, b.secretKey)));
  });
});
