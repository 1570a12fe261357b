import { createHmac } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  base64ToBytes,
  bytesToBase64,
  loadOrCreateSigningKey,
  publicKeyFingerprint,
  signEntryHash,
  signGroupDigest,
  type SigningKeyPair,
} from '@concord/crypto';

/** The coordinator's Ed25519 ledger key: signs every ledger entry and every exported report. */
export class LedgerKey {
  readonly publicKey: Uint8Array;
  readonly publicKeyBase64: string;
  readonly fingerprint: string;

  private constructor(private readonly keyPair: SigningKeyPair) {
    this.publicKey = keyPair.publicKey;
    this.publicKeyBase64 = bytesToBase64(keyPair.publicKey);
    this.fingerprint = publicKeyFingerprint(keyPair.publicKey);
  }

  /** Loads the key file, or creates it with mode 0600 on first start. */
  static async load(path: string): Promise<{ key: LedgerKey; created: boolean }> {
    const { keyPair, created } = await loadOrCreateSigningKey(path);
    return { key: new LedgerKey(keyPair), created };
  }

  static fromKeyPair(keyPair: SigningKeyPair): LedgerKey {
    return new LedgerKey(keyPair);
  }

  signEntryHash(hash: string): string {
    return signEntryHash(hash, this.keyPair.secretKey);
  }

  /** The signature of a group digest: one for all the entries a charge transaction appends. */
  signGroupDigest(digest: string): string {
    return signGroupDigest(digest, this.keyPair.secretKey);
  }

  /** A detached Ed25519 signature (base64) over exactly these bytes — used for exported reports. */
  signBytes(bytes: Uint8Array): string {
    return bytesToBase64(nacl.sign.detached(bytes, this.keyPair.secretKey));
  }

  /** Whether `signatureBase64` is this key's detached signature over `bytes`. */
  verifyBytes(bytes: Uint8Array, signatureBase64: string): boolean {
    return LedgerKey.verifyDetached(bytes, signatureBase64, this.publicKey);
  }

  static verifyDetached(bytes: Uint8Array, signatureBase64: string, publicKey: Uint8Array): boolean {
    let signature: Uint8Array;
    try {
      signature = base64ToBytes(signatureBase64.trim(), 'signature', 64);
    } catch {
      return false;
    }
    return nacl.sign.detached.verify(bytes, signature, publicKey);
  }

  /**
   * A 32-byte secret derived from the ledger key for one purpose (HMAC-SHA256 keyed by the secret
   * key, over the label), so that a secret such as the report-session key lives and rotates with the
   * ledger key file instead of in a file of its own. Labels must differ per purpose.
   */
  deriveSecret(label: string): Buffer {
    return createHmac('sha256', this.keyPair.secretKey).update(`concord:${label}`, 'utf8').digest();
  }
}
