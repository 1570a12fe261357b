import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { signEntryHash, verifyEntrySignature } from './chain';
import { EntryHashSigner } from './entry-hash-signer';
import { generateSigningKeyPair } from './keys';

const hashes = Array.from({ length: 50 }, (_, i) => createHash('sha256').update(`entry ${i}`).digest('hex'));

describe('EntryHashSigner', () => {
  const signers: EntryHashSigner[] = [];
  afterEach(async () => {
    await Promise.all(signers.splice(0).map((s) => s.close()));
  });

  it('signs on a worker exactly as signEntryHash does (Ed25519 is deterministic), in order', async () => {
    const { publicKey, secretKey } = generateSigningKeyPair();
    const signer = new EntryHashSigner(secretKey);
    signers.push(signer);
    const [a, b] = await Promise.all([signer.sign(hashes), signer.sign(hashes.slice(0, 3).reverse())]);
    expect(a).toEqual(hashes.map((h) => signEntryHash(h, secretKey)));
    expect(b).toEqual(
      hashes
        .slice(0, 3)
        .reverse()
        .map((h) => signEntryHash(h, secretKey)),
    );
    expect(a.every((sig, i) => verifyEntrySignature(hashes[i], sig, publicKey))).toBe(true);
    expect(await signer.sign([])).toEqual([]);
  });

  it('refuses a malformed hash before anything is signed, and a key whose halves disagree', async () => {
    const { secretKey } = generateSigningKeyPair();
    const signer = new EntryHashSigner(secretKey);
    signers.push(signer);
    await expect(signer.sign([hashes[0], 'not-a-hash'])).rejects.toThrow(/hash/);
    const spliced = secretKey.slice();
    spliced[40] ^= 1;
    expect(() => new EntryHashSigner(spliced)).toThrow(/does not match/);
  });

  it('fails pending requests when closed, and starts a new worker for the next one', async () => {
    const { secretKey } = generateSigningKeyPair();
    const signer = new EntryHashSigner(secretKey);
    signers.push(signer);
    const failed = expect(signer.sign(hashes)).rejects.toThrow(/closed/);
    await signer.close();
    await failed;
    expect(await signer.sign(hashes.slice(0, 2))).toEqual(hashes.slice(0, 2).map((h) => signEntryHash(h, secretKey)));
  });
});
