import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexToBytes } from './bytes';
import {
  generateIdentity,
  KeyFileError,
  loadOrCreateSigningKey,
  parseIdentity,
  publicKeyFingerprint,
  readKeyFile,
  readSigningKeyFile,
  serializeIdentity,
  shortFingerprint,
  writeKeyFile,
} from './keys';

const posix = process.platform !== 'win32';

describe('identities', () => {
  it('generates Ed25519 and X25519 key pairs of the right lengths', () => {
    const identity = generateIdentity();
    expect(identity.signing.publicKey).toHaveLength(32);
    expect(identity.signing.secretKey).toHaveLength(64);
    expect(identity.box.publicKey).toHaveLength(32);
    expect(identity.box.secretKey).toHaveLength(32);
    expect(nacl.scalarMult.base(identity.box.secretKey)).toEqual(identity.box.publicKey);
    expect(generateIdentity().signing.publicKey).not.toEqual(identity.signing.publicKey);
  });

  it('serializes to the documented key-file shape and parses it back', () => {
    const identity = generateIdentity();
    const file = serializeIdentity(identity);
    expect(Object.keys(file).sort()).toEqual(['boxPublicKey', 'boxSecretKey', 'signingPublicKey', 'signingSecretKey', 'version'].sort());
    expect(file.version).toBe(1);
    expect(Buffer.from(file.signingPublicKey, 'base64')).toEqual(Buffer.from(identity.signing.publicKey));
    expect(parseIdentity(JSON.parse(JSON.stringify(file)))).toEqual(identity);
  });

  it('ignores unknown extra fields', () => {
    const file = { ...serializeIdentity(generateIdentity()), createdAt: '2026-01-01T00:00:00Z' };
    expect(() => parseIdentity(file)).not.toThrow();
  });

  it('rejects a bad key file, naming the field and never the key', () => {
    const identity = generateIdentity();
    const file = serializeIdentity(identity);
    const other = serializeIdentity(generateIdentity());
    const cases: [unknown, RegExp][] = [
      [null, /^keyFile: expected a JSON object$/],
      [{ ...file, version: 2 }, /^keyFile\.version: unsupported/],
      [{ ...file, signingSecretKey: undefined }, /^keyFile\.signingSecretKey: expected string/],
      [{ ...file, boxPublicKey: file.boxPublicKey.slice(0, -4) }, /^keyFile\.boxPublicKey: expected 32 bytes/],
      [{ ...file, boxSecretKey: `${file.boxSecretKey.slice(0, -1)}!` }, /^keyFile\.boxSecretKey: malformed base64/],
      [{ ...file, signingPublicKey: other.signingPublicKey }, /^keyFile\.signing\.publicKey: does not match/],
      [{ ...file, boxPublicKey: other.boxPublicKey }, /^keyFile\.box\.publicKey: does not match/],
    ];
    for (const [input, message] of cases) {
      let caught: unknown;
      try {
        parseIdentity(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain(file.signingSecretKey);
      expect((caught as Error).message).not.toContain(file.boxSecretKey);
    }
  });
});

describe('fingerprints', () => {
  it('is SHA-256 of the raw key in hex, with a 16-digit short form', () => {
    // `printf d75a…511a | xxd -r -p | sha256sum` (RFC 8032 TEST 1 public key)
    const publicKey = hexToBytes('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'pk');
    expect(publicKeyFingerprint(publicKey)).toBe('21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9');
    expect(shortFingerprint(publicKey)).toBe('21fe31dfa154a261');
    expect(() => publicKeyFingerprint(new Uint8Array(31))).toThrow(/^publicKey: expected 32 bytes/);
  });
});

describe('key files', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'concord-keys-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.runIf(posix)('writes mode 0600 even under a permissive umask, and reads it back', async () => {
    const path = join(dir, 'agent.key.json');
    const identity = generateIdentity();
    const previous = process.umask(0);
    try {
      await writeKeyFile(path, identity);
    } finally {
      process.umask(previous);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readKeyFile(path)).toEqual(identity);
    expect(await readdir(dir)).toEqual(['agent.key.json']); // no temp file left behind
  });

  it('refuses to replace an existing file unless asked to', async () => {
    const path = join(dir, 'agent.key.json');
    const first = generateIdentity();
    const second = generateIdentity();
    await writeKeyFile(path, first);
    await expect(writeKeyFile(path, second)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readKeyFile(path)).toEqual(first);
    await writeKeyFile(path, second, { overwrite: true });
    expect(await readKeyFile(path)).toEqual(second);
    expect(await readdir(dir)).toEqual(['agent.key.json']);
  });

  it.runIf(posix)('refuses a key file readable or writable by group or others, saying how to fix it', async () => {
    const path = join(dir, 'agent.key.json');
    const file = serializeIdentity(generateIdentity());
    await writeFile(path, JSON.stringify(file));
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602]) {
      await chmod(path, mode);
      const error = await readKeyFile(path).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(KeyFileError);
      expect((error as Error).message).toContain(`mode 0${mode.toString(8)}`);
      expect((error as Error).message).toContain(`chmod 600 ${path}`);
      expect((error as Error).message).not.toContain(file.signingSecretKey);
    }
    await chmod(path, 0o400);
    await expect(readKeyFile(path)).resolves.toBeDefined();
  });

  it('does not echo the file contents when the JSON is broken', async () => {
    const path = join(dir, 'agent.key.json');
    const file = serializeIdentity(generateIdentity());
    await writeFile(path, JSON.stringify(file).slice(0, -3), { mode: 0o600 });
    const error = await readKeyFile(path).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyFileError);
    expect((error as Error).message).toBe(`key file ${path}: not valid JSON`);
  });

  it('names the bad field of a corrupted key file', async () => {
    const path = join(dir, 'agent.key.json');
    const file = serializeIdentity(generateIdentity());
    await writeFile(path, JSON.stringify({ ...file, boxSecretKey: 'AAAA' }), { mode: 0o600 });
    await expect(readKeyFile(path)).rejects.toThrow(`key file ${path}: keyFile.boxSecretKey: expected 32 bytes, got 3`);
  });

  it('refuses a directory', async () => {
    await expect(readKeyFile(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('loadOrCreateSigningKey', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'concord-ledger-key-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an Ed25519-only key file with mode 0600, then loads the same key', async () => {
    const path = join(dir, 'ledger.key.json');
    const created = await loadOrCreateSigningKey(path);
    expect(created.created).toBe(true);
    if (posix) expect((await stat(path)).mode & 0o777).toBe(0o600);
    const json = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['signingPublicKey', 'signingSecretKey', 'version']);
    const loaded = await loadOrCreateSigningKey(path);
    expect(loaded.created).toBe(false);
    expect(loaded.keyPair).toEqual(created.keyPair);
  });

  it('gives every concurrent caller the same key and creates it once', async () => {
    const path = join(dir, 'ledger.key.json');
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSigningKey(path)));
    expect(results.filter((result) => result.created)).toHaveLength(1);
    for (const result of results) expect(result.keyPair).toEqual(results[0].keyPair);
    expect(await readdir(dir)).toEqual(['ledger.key.json']);
  });

  it.runIf(posix)('refuses an existing key file with loose permissions instead of replacing it', async () => {
    const path = join(dir, 'ledger.key.json');
    await loadOrCreateSigningKey(path);
    await chmod(path, 0o644);
    await expect(loadOrCreateSigningKey(path)).rejects.toThrow(KeyFileError);
  });

  it('reads the signing half of a full identity file', async () => {
    const path = join(dir, 'identity.key.json');
    const identity = generateIdentity();
    await writeKeyFile(path, identity);
    expect(await readSigningKeyFile(path)).toEqual(identity.signing);
  });
});
