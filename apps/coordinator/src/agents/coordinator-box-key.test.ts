import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToBase64, equalBytes } from '@concord/crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { loadOrCreateBoxKey } from './coordinator-box-key';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'concord-box-key-'));
}

describe('loadOrCreateBoxKey', () => {
  it('creates an X25519 key pair with mode 0600 on first start and reads the same one afterwards', async () => {
    const path = join(dir(), 'box-key.json');
    const first = await loadOrCreateBoxKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(equalBytes(nacl.scalarMult.base(first.keyPair.secretKey), first.keyPair.publicKey)).toBe(true);
    const again = await loadOrCreateBoxKey(path);
    expect(again.created).toBe(false);
    expect(equalBytes(again.keyPair.publicKey, first.keyPair.publicKey)).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ version: 1, boxPublicKey: bytesToBase64(first.keyPair.publicKey) });
  });

  it('gives every replica starting at once the same key', async () => {
    const path = join(dir(), 'box-key.json');
    const loaded = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateBoxKey(path)));
    expect(loaded.filter((l) => l.created)).toHaveLength(1);
    for (const l of loaded) expect(bytesToBase64(l.keyPair.publicKey)).toBe(bytesToBase64(loaded[0].keyPair.publicKey));
  });

  it('refuses a file others can read, or whose keys do not match, naming the file but not the key', async () => {
    const path = join(dir(), 'box-key.json');
    const { keyPair } = await loadOrCreateBoxKey(path);
    chmodSync(path, 0o644);
    await expect(loadOrCreateBoxKey(path)).rejects.toThrow(/mode 0644.*chmod 600/);
    const other = nacl.box.keyPair();
    const mismatched = join(dir(), 'box-key.json');
    writeFileSync(
      mismatched,
      JSON.stringify({ version: 1, boxPublicKey: bytesToBase64(other.publicKey), boxSecretKey: bytesToBase64(keyPair.secretKey) }),
      { mode: 0o600 },
    );
    const error = await loadOrCreateBoxKey(mismatched).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/box-key\.json.*does not match/);
    expect(error?.message).not.toContain(bytesToBase64(keyPair.secretKey));
  });
});
