/**
 * Ed25519 detached signatures: tweetnacl makes keys, node:crypto signs and verifies.
 *
 * Verification is the hot path (the coordinator checks every answer, request and ledger entry),
 * and OpenSSL's Ed25519 through node:crypto is many times faster than tweetnacl's pure JavaScript
 * (see `bench/crypto-verify.ts`). The raw 32-byte public key is wrapped in a SubjectPublicKeyInfo
 * (RFC 8410) and the resulting KeyObject is cached per key in a small LRU.
 *
 * `verify` is at least as strict as tweetnacl: OpenSSL also rejects signatures whose scalar S is
 * not reduced (S ≥ L), which tweetnacl accepts (a malleability, not a forgery). Every signature
 * tweetnacl produces is canonical, so nothing valid is lost.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { abytes, CryptoInputError, equalBytes } from './bytes';

export const ED25519_PUBLIC_KEY_LENGTH = 32;
/** tweetnacl's secret key: the 32-byte seed followed by the 32-byte public key. */
export const ED25519_SECRET_KEY_LENGTH = 64;
export const ED25519_SEED_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier id-Ed25519, BIT STRING (32 bytes) }. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const KEY_CACHE_CAPACITY = 256;
const keyCache = new Map<string, KeyObject>();

function publicKeyObject(publicKey: Uint8Array): KeyObject | undefined {
  const cacheKey = Buffer.from(publicKey).toString('base64');
  const cached = keyCache.get(cacheKey);
  if (cached !== undefined) {
    // Re-insert to mark as most recently used (Map iterates in insertion order).
    keyCache.delete(cacheKey);
    keyCache.set(cacheKey, cached);
    return cached;
  }
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
  } catch {
    // Not a usable Ed25519 point: nothing can verify under it.
    return undefined;
  }
  keyCache.set(cacheKey, keyObject);
  if (keyCache.size > KEY_CACHE_CAPACITY) {
    const oldest = keyCache.keys().next();
    if (oldest.done !== true) keyCache.delete(oldest.value);
  }
  return keyObject;
}

/**
 * Secret keys already found consistent, with a snapshot of their bytes: the check costs a
 * scalar multiplication, as much as the signature itself, and the same key (the ledger key, an
 * agent's identity) signs again and again. A key whose bytes changed since is checked anew.
 */
const consistentKeys = new WeakMap<Uint8Array, Uint8Array>();

/**
 * Checks that a tweetnacl secret key's second half is the public key of its seed, and returns
 * that public key. Signing with a mismatched pair leaks the private key to anyone who sees two
 * signatures of one message under different public keys, so a corrupt or spliced key must never
 * reach `nacl.sign`.
 */
export function assertConsistentSigningKey(secretKey: Uint8Array, name: string): Uint8Array {
  abytes(secretKey, ED25519_SECRET_KEY_LENGTH, name);
  const snapshot = consistentKeys.get(secretKey);
  if (snapshot !== undefined && equalBytes(snapshot, secretKey)) {
    return secretKey.slice(ED25519_SEED_LENGTH);
  }
  const derived = nacl.sign.keyPair.fromSeed(secretKey.subarray(0, ED25519_SEED_LENGTH));
  if (!equalBytes(derived.publicKey, secretKey.subarray(ED25519_SEED_LENGTH))) {
    throw new CryptoInputError(name, 'secret key does not match its embedded public key');
  }
  consistentKeys.set(secretKey, secretKey.slice());
  return derived.publicKey;
}

/** The public key embedded in a tweetnacl Ed25519 secret key (checked, see above). */
export function signingPublicKeyOf(secretKey: Uint8Array): Uint8Array {
  return assertConsistentSigningKey(secretKey, 'secretKey');
}

/** DER prefix of an Ed25519 PKCS#8 PrivateKeyInfo holding a 32-byte seed (RFC 8410). */
export const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** node:crypto private keys of secret keys already used, with a snapshot of the bytes they came from. */
const privateKeys = new WeakMap<Uint8Array, { snapshot: Uint8Array; key: KeyObject }>();

function privateKeyObject(secretKey: Uint8Array): KeyObject {
  const cached = privateKeys.get(secretKey);
  if (cached !== undefined && equalBytes(cached.snapshot, secretKey)) return cached.key;
  const key = createPrivateKey({
    key: Buffer.concat([ED25519_PKCS8_PREFIX, secretKey.subarray(0, ED25519_SEED_LENGTH)]),
    format: 'der',
    type: 'pkcs8',
  });
  privateKeys.set(secretKey, { snapshot: secretKey.slice(), key });
  return key;
}

/**
 * Ed25519 detached signature (64 bytes) of `message`. Ed25519 signing is deterministic (RFC 8032),
 * so OpenSSL through node:crypto produces exactly the bytes tweetnacl would — about fifty times
 * faster, which matters where the ledger signs entries inside a charge transaction. The key is
 * still checked for consistency first, so a corrupt key file is refused rather than used.
 */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  abytes(message, undefined, 'message');
  assertConsistentSigningKey(secretKey, 'secretKey');
  return new Uint8Array(nodeSign(null, message, privateKeyObject(secretKey)));
}

/**
 * Verifies an Ed25519 detached signature with node:crypto. Returns false for a wrong signature
 * or a public key that is not a valid point; throws `CryptoInputError` for arguments of the
 * wrong type or length (a programming or parsing error, not a verification result).
 */
export function verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  abytes(message, undefined, 'message');
  abytes(signature, ED25519_SIGNATURE_LENGTH, 'signature');
  abytes(publicKey, ED25519_PUBLIC_KEY_LENGTH, 'publicKey');
  const keyObject = publicKeyObject(publicKey);
  if (keyObject === undefined) return false;
  try {
    return nodeVerify(null, message, keyObject, signature);
  } catch {
    return false;
  }
}
