import { type BoxKeyPair, bytesToBase64, publicKeyFingerprint } from '@concord/crypto';
import { PROTOCOL_VERSION } from '@concord/protocol';
import type { CoordinatorIdentityDto } from './dto/agent.dto';

export const COORDINATOR_KEYS = Symbol('COORDINATOR_KEYS');

/**
 * The coordinator's identity towards agents: its Ed25519 ledger key (which enrollment and rotation
 * proofs bind) and its X25519 box key pair (to which agents seal their answers). Other modules
 * inject it with `@Inject(COORDINATOR_KEYS)` to open envelopes.
 */
export class CoordinatorKeys {
  readonly signingPublicKeyBase64: string;
  readonly signingKeyFingerprint: string;
  readonly boxPublicKeyBase64: string;

  constructor(
    signingPublicKey: Uint8Array,
    readonly box: BoxKeyPair,
  ) {
    this.signingPublicKeyBase64 = bytesToBase64(signingPublicKey);
    this.signingKeyFingerprint = publicKeyFingerprint(signingPublicKey);
    this.boxPublicKeyBase64 = bytesToBase64(box.publicKey);
  }

  identity(): CoordinatorIdentityDto {
    return {
      protocolVersion: PROTOCOL_VERSION,
      signingPublicKey: this.signingPublicKeyBase64,
      signingKeyFingerprint: this.signingKeyFingerprint,
      boxPublicKey: this.boxPublicKeyBase64,
    };
  }
}
