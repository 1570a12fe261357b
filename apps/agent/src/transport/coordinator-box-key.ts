import { base64ToBytes, CryptoInputError, publicKeyFingerprint } from '@concord/crypto';
import { boxKeyId, verifyBoxKeyStatement } from '@concord/protocol';
import { AgentError, EXIT } from '../cli/errors';
import { fetchCoordinatorIdentity } from './coordinator-client';
import type { RetryContext } from './retry';

export interface BoxKeyToCheck {
  /** base64 Ed25519: the coordinator signing key this agent pinned (or is about to pin). */
  pinnedSigningPublicKey: string;
  /** base64 X25519: the box key as received or stored. */
  boxPublicKey: unknown;
  /** base64: the signature of its `concord-box-key-v1` statement, as received or stored. */
  boxKeySignature: unknown;
  /** Where the box key came from, for the error message (`GET /agents/coordinator`, `agent.json`, …). */
  source: string;
}

function fingerprintOf(base64Key: string): string {
  try {
    return publicKeyFingerprint(base64ToBytes(base64Key, 'coordinatorSigningPublicKey', 32));
  } catch (error) {
    if (error instanceof CryptoInputError) return '(malformed key)';
    throw error;
  }
}

/**
 * The coordinator's box key, checked: only a key whose `concord-box-key-v1` statement is signed by
 * the pinned coordinator signing key is returned (raw 32 bytes, ready for sealing). Anything else
 * — no signature, a wrong one, a substituted key, a malformed key — is an `AgentError` (exit 2),
 * raised before anything is sealed or sent. Called every time the agent obtains, refreshes or is
 * about to use the box key.
 */
export function verifiedCoordinatorBoxKey(input: BoxKeyToCheck): Uint8Array {
  const pinned = fingerprintOf(input.pinnedSigningPublicKey);
  if (typeof input.boxPublicKey !== 'string') {
    throw new AgentError(`${input.source}: no coordinator box key: refusing to seal anything`, EXIT.configuration);
  }
  let box: Uint8Array;
  try {
    box = base64ToBytes(input.boxPublicKey, 'coordinator boxPublicKey', 32);
  } catch (error) {
    if (!(error instanceof CryptoInputError)) throw error;
    throw new AgentError(
      `${input.source}: the coordinator box key is malformed (${error.message}): refusing to seal anything`,
      EXIT.configuration,
    );
  }
  if (input.boxKeySignature === undefined || input.boxKeySignature === null) {
    throw new AgentError(
      `${input.source}: the coordinator box key ${input.boxPublicKey} comes without a signature by the coordinator signing key ` +
        `(fingerprint ${pinned}); it cannot be told from a key substituted in transit, so nothing is sealed to it or sent. ` +
        'The coordinator may predate signed box keys (upgrade it), or something between this agent and the coordinator removed the signature.',
      EXIT.configuration,
    );
  }
  if (
    !verifyBoxKeyStatement(
      { coordinatorSigningPublicKey: input.pinnedSigningPublicKey, boxPublicKey: input.boxPublicKey },
      input.boxKeySignature,
    )
  ) {
    throw new AgentError(
      `${input.source}: the coordinator box key ${input.boxPublicKey} (id ${boxKeyId(input.boxPublicKey)}) is NOT signed by the pinned ` +
        `coordinator signing key (fingerprint ${pinned}): it may have been substituted in transit (a man in the middle), so nothing ` +
        'is sealed to it or sent. Use an https:// coordinator URL and check the fingerprint with your consortium admin.',
      EXIT.configuration,
    );
  }
  return box;
}

/** A box key and its signature, both verified under the pinned signing key. */
export interface VerifiedBoxKey {
  coordinatorBoxPublicKey: string;
  coordinatorBoxKeySignature: string;
}

/**
 * Fetches the coordinator's box key again (GET /agents/coordinator) and keeps it only if the
 * coordinator still presents the pinned signing key and the box key's statement verifies under it.
 */
export async function refreshCoordinatorBoxKey(
  url: string,
  pinnedSigningPublicKey: string,
  fetchImpl: typeof fetch,
  retry: RetryContext,
): Promise<VerifiedBoxKey> {
  const coordinator = await fetchCoordinatorIdentity(url, fetchImpl, retry);
  if (coordinator.signingPublicKey !== pinnedSigningPublicKey) {
    throw new AgentError(
      `the coordinator at ${url} presents another signing key (fingerprint ${coordinator.fingerprint}) than the one pinned at enrollment ` +
        `(fingerprint ${fingerprintOf(pinnedSigningPublicKey)}): not refreshing its box key, nothing sent`,
      EXIT.configuration,
    );
  }
  verifiedCoordinatorBoxKey({
    pinnedSigningPublicKey,
    boxPublicKey: coordinator.boxPublicKey,
    boxKeySignature: coordinator.boxKeySignature,
    source: `GET ${url}/agents/coordinator`,
  });
  return { coordinatorBoxPublicKey: coordinator.boxPublicKey, coordinatorBoxKeySignature: coordinator.boxKeySignature as string };
}
