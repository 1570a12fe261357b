import { bytesToBase64, loadOrCreateSigningKey, publicKeyFingerprint, signEntryHash, type SigningKeyPair } from '@concord/crypto';

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
}
