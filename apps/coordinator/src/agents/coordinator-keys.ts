import { type BoxKeyPair, bytesToBase64, publicKeyFingerprint } from '@concord/crypto';
import { boxKeyStatementMessage, PROTOCOL_VERSION, verifyBoxKeyStatement } from '@concord/protocol';
import type { CoordinatorIdentityDto } from './dto/agent.dto';

export const COORDINATOR_KEYS = Symbol('COORDINATOR_KEYS');

/**
 * The coordinator's identity towards agents: its Ed25519 ledger key (which enrollment and rotation
 * proofs bind) and its X25519 box key pair (to which agents seal their answers), with the ledger
 * key's signature of the box key statement (libs/protocol box-key.ts) so that an agent which pinned
 * the signing key can tell the genuine box key from a substituted one. Other modules inject it with
 * `@Inject(COORDINATOR_KEYS)` to open envelopes.
 */
export class CoordinatorKeys {
  readonly signingPublicKeyBase64: string;
  readonly signingKeyFingerprint: string;
  readonly boxPublicKeyBase64: string;
  /** base64 Ed25519 signature by the signing key of the `concord-box-key-v1` statement for the box key. */
  readonly boxKeySignature: string;

  /**
   * @param signBytes detached Ed25519 signature (base64) by the key whose public half is
   *   `signingPublicKey` (the ledger key's `signBytes`); used once, here, for the box key statement.
   */
  constructor(
    signingPublicKey: Uint8Array,
    readonly box: BoxKeyPair,
    signBytes: (bytes: Uint8Array) => string,
  ) {
    this.signingPublicKeyBase64 = bytesToBase64(signingPublicKey);
    this.signingKeyFingerprint = publicKeyFingerprint(signingPublicKey);
    this.boxPublicKeyBase64 = bytesToBase64(box.publicKey);
    const claims = { coordinatorSigningPublicKey: this.signingPublicKeyBase64, boxPublicKey: this.boxPublicKeyBase64 };
    this.boxKeySignature = signBytes(boxKeyStatementMessage(claims));
    // Every agent would refuse a statement that does not verify: fail at start, not at enrollment.
    if (!verifyBoxKeyStatement(claims, this.boxKeySignature)) {
      throw new Error('the box key statement does not verify under the signing key: signBytes signs with another key');
    }
  }

  identity(): CoordinatorIdentityDto {
    return {
      protocolVersion: PROTOCOL_VERSION,
      signingPublicKey: this.signingPublicKeyBase64,
      signingKeyFingerprint: this.signingKeyFingerprint,
      boxPublicKey: this.boxPublicKeyBase64,
      boxKeySignature: this.boxKeySignature,
    };
  }
}
