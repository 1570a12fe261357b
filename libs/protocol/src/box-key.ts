/**
 * The coordinator's box key statement: its Ed25519 signing (ledger) key vouches for the X25519 key
 * to which agents seal their answers.
 *
 * An agent pins the coordinator's *signing* key at enrollment (its fingerprint is compared out of
 * band). Without this statement, the box key would travel unauthenticated beside it, and a man in
 * the middle could substitute its own box key and read every answer. The coordinator therefore
 * signs, with its ledger key:
 *
 *   "concord-box-key-v1\n" ‖ canonicalJson({
 *     protocolVersion: 1,
 *     coordinatorSigningPublicKey,   // base64: the key that signs (binds the statement to it)
 *     boxPublicKey,                  // base64, 32 bytes: the X25519 key answers are sealed to
 *     boxKeyId })                    // lowercase hex SHA-256 of the raw box key (its fingerprint)
 *
 * and serves the signature as `boxKeySignature` (GET /agents/coordinator, GET /agents/me) and
 * `coordinatorBoxKeySignature` (the enrollment answer). The agent verifies it against the signing
 * key it pinned every time it obtains or refreshes the box key, and seals nothing to a box key
 * whose statement does not verify.
 *
 * The label differs from every other message the ledger key signs (ledger entry hashes, reports),
 * so the signature cannot be taken for, or made from, any of them. The statement carries no date:
 * a box key the coordinator once signed stays signed (there is no box key rotation or revocation).
 */
import {
  base64ToBytes,
  bytesToBase64,
  canonicalJsonBytes,
  concatBytes,
  CryptoInputError,
  publicKeyFingerprint,
  sign,
  utf8ToBytes,
  verify,
} from '@concord/crypto';
import { PROTOCOL_VERSION } from './version';

export const BOX_KEY_STATEMENT_LABEL = 'concord-box-key-v1';

export interface BoxKeyStatementClaims {
  /** base64 Ed25519: the coordinator's signing (ledger) key. */
  coordinatorSigningPublicKey: string;
  /** base64 X25519: the coordinator's box key. */
  boxPublicKey: string;
}

/** Hex SHA-256 of the raw box key: the id the statement names it by. */
export function boxKeyId(boxPublicKey: string): string {
  return publicKeyFingerprint(base64ToBytes(boxPublicKey, 'boxPublicKey', 32));
}

/** The exact bytes the box key statement signs (see the module comment). Throws on a malformed key. */
export function boxKeyStatementMessage(claims: BoxKeyStatementClaims): Uint8Array {
  base64ToBytes(claims.coordinatorSigningPublicKey, 'coordinatorSigningPublicKey', 32);
  return concatBytes(
    utf8ToBytes(`${BOX_KEY_STATEMENT_LABEL}\n`),
    canonicalJsonBytes({
      protocolVersion: PROTOCOL_VERSION,
      coordinatorSigningPublicKey: claims.coordinatorSigningPublicKey,
      boxPublicKey: claims.boxPublicKey,
      boxKeyId: boxKeyId(claims.boxPublicKey),
    }),
  );
}

/** The coordinator's signature (base64) of its box key statement, made with its signing secret key. */
export function signBoxKeyStatement(claims: BoxKeyStatementClaims, signingSecretKey: Uint8Array): string {
  return bytesToBase64(sign(boxKeyStatementMessage(claims), signingSecretKey));
}

/**
 * True only if `signature` is a canonical base64 Ed25519 signature, by `claims.coordinatorSigningPublicKey`,
 * of the box key statement for `claims.boxPublicKey`. Anything malformed — a missing signature, a
 * key of the wrong length — is simply not verified (false); it never throws.
 */
export function verifyBoxKeyStatement(claims: BoxKeyStatementClaims, signature: unknown): boolean {
  try {
    const message = boxKeyStatementMessage(claims);
    return verify(
      message,
      base64ToBytes(signature, 'boxKeySignature', 64),
      base64ToBytes(claims.coordinatorSigningPublicKey, 'coordinatorSigningPublicKey', 32),
    );
  } catch (error) {
    if (error instanceof CryptoInputError) return false;
    throw error;
  }
}
