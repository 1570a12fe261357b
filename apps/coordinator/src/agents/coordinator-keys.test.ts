import { bytesToBase64, generateIdentity, sign } from '@concord/crypto';
import { verifyBoxKeyStatement } from '@concord/protocol';
import { describe, expect, it } from 'vitest';
import { CoordinatorKeys } from './coordinator-keys';

describe('CoordinatorKeys', () => {
  it('serves its box key with the signing key’s signature of the box key statement', () => {
    const { signing, box } = generateIdentity();
    const keys = new CoordinatorKeys(signing.publicKey, box, (bytes) => bytesToBase64(sign(bytes, signing.secretKey)));
    const identity = keys.identity();
    expect(identity.boxPublicKey).toBe(bytesToBase64(box.publicKey));
    expect(identity.boxKeySignature).toBe(keys.boxKeySignature);
    expect(
      verifyBoxKeyStatement(
        { coordinatorSigningPublicKey: identity.signingPublicKey, boxPublicKey: identity.boxPublicKey },
        identity.boxKeySignature,
      ),
    ).toBe(true);
  });

  it('refuses to start when the signer is not the signing key it names', () => {
    const { signing, box } = generateIdentity();
    const other = generateIdentity().signing;
    expect(() => new CoordinatorKeys(signing.publicKey, box, (bytes) => bytesToBase64(sign(bytes, other.secretKey)))).toThrow(
      /does not verify under the signing key/,
    );
  });
});
