/**
 * Agent and coordinator identities and their key files.
 *
 * An identity is two key pairs made locally with tweetnacl: Ed25519 for signing and X25519 for
 * sealed boxes. Private keys never leave the machine; storing them is the caller's file, created
 * here with mode 0600 and refused on read if group or others have any access to it.
 */
import { randomBytes, createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import nacl from 'tweetnacl';
import { abytes, base64ToBytes, bytesToBase64, CryptoInputError, equalBytes } from './bytes';
import { assertConsistentSigningKey, ED25519_PUBLIC_KEY_LENGTH, ED25519_SECRET_KEY_LENGTH } from './signature';

export const X25519_PUBLIC_KEY_LENGTH = 32;
export const X25519_SECRET_KEY_LENGTH = 32;

export interface SigningKeyPair {
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** tweetnacl Ed25519 secret key, 64 bytes (seed ‖ public key). */
  secretKey: Uint8Array;
}

export interface BoxKeyPair {
  /** X25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** X25519 secret key, 32 bytes. */
  secretKey: Uint8Array;
}

export interface Identity {
  signing: SigningKeyPair;
  box: BoxKeyPair;
}

/** The JSON shape of an identity key file (all keys base64). */
export interface IdentityKeyFile {
  version: 1;
  signingPublicKey: string;
  signingSecretKey: string;
  boxPublicKey: string;
  boxSecretKey: string;
}

/** The JSON shape of a signing-only key file (the coordinator's ledger key). */
export interface SigningKeyFile {
  version: 1;
  signingPublicKey: string;
  signingSecretKey: string;
}

export function generateIdentity(): Identity {
  return { signing: nacl.sign.keyPair(), box: nacl.box.keyPair() };
}

export function generateSigningKeyPair(): SigningKeyPair {
  return nacl.sign.keyPair();
}

export function serializeIdentity(identity: Identity): IdentityKeyFile {
  checkSigningKeyPair(identity.signing, 'identity.signing');
  checkBoxKeyPair(identity.box, 'identity.box');
  return {
    version: 1,
    signingPublicKey: bytesToBase64(identity.signing.publicKey),
    signingSecretKey: bytesToBase64(identity.signing.secretKey),
    boxPublicKey: bytesToBase64(identity.box.publicKey),
    boxSecretKey: bytesToBase64(identity.box.secretKey),
  };
}

export function serializeSigningKeyPair(keyPair: SigningKeyPair): SigningKeyFile {
  checkSigningKeyPair(keyPair, 'keyPair');
  return {
    version: 1,
    signingPublicKey: bytesToBase64(keyPair.publicKey),
    signingSecretKey: bytesToBase64(keyPair.secretKey),
  };
}

/**
 * Parses a key-file object (already JSON-parsed) into an identity, checking the version, every
 * field's encoding and length, and that each public key belongs to its secret key. Unknown extra
 * fields are ignored so a later writer can add metadata without a version bump.
 */
export function parseIdentity(keyFile: unknown, name = 'keyFile'): Identity {
  const record = checkVersionedRecord(keyFile, name);
  const signing = parseSigningFields(record, name);
  const boxSecretKey = base64ToBytes(record.boxSecretKey, `${name}.boxSecretKey`, X25519_SECRET_KEY_LENGTH);
  const boxPublicKey = base64ToBytes(record.boxPublicKey, `${name}.boxPublicKey`, X25519_PUBLIC_KEY_LENGTH);
  const box = { publicKey: boxPublicKey, secretKey: boxSecretKey };
  checkBoxKeyPair(box, `${name}.box`);
  return { signing, box };
}

/** Parses the signing half of a key file (a signing-only file or a full identity file). */
export function parseSigningKeyPair(keyFile: unknown, name = 'keyFile'): SigningKeyPair {
  return parseSigningFields(checkVersionedRecord(keyFile, name), name);
}

function checkVersionedRecord(keyFile: unknown, name: string): Record<string, unknown> {
  if (typeof keyFile !== 'object' || keyFile === null || Array.isArray(keyFile)) {
    throw new CryptoInputError(name, 'expected a JSON object');
  }
  const record = keyFile as Record<string, unknown>;
  if (record.version !== 1) {
    throw new CryptoInputError(`${name}.version`, 'unsupported key file version (expected 1)');
  }
  return record;
}

function parseSigningFields(record: Record<string, unknown>, name: string): SigningKeyPair {
  const secretKey = base64ToBytes(record.signingSecretKey, `${name}.signingSecretKey`, ED25519_SECRET_KEY_LENGTH);
  const publicKey = base64ToBytes(record.signingPublicKey, `${name}.signingPublicKey`, ED25519_PUBLIC_KEY_LENGTH);
  const keyPair = { publicKey, secretKey };
  checkSigningKeyPair(keyPair, `${name}.signing`);
  return keyPair;
}

function checkSigningKeyPair(keyPair: SigningKeyPair, name: string): void {
  abytes(keyPair.publicKey, ED25519_PUBLIC_KEY_LENGTH, `${name}.publicKey`);
  const derived = assertConsistentSigningKey(keyPair.secretKey, `${name}.secretKey`);
  if (!equalBytes(derived, keyPair.publicKey)) {
    throw new CryptoInputError(`${name}.publicKey`, 'does not match the secret key');
  }
}

function checkBoxKeyPair(keyPair: BoxKeyPair, name: string): void {
  abytes(keyPair.publicKey, X25519_PUBLIC_KEY_LENGTH, `${name}.publicKey`);
  abytes(keyPair.secretKey, X25519_SECRET_KEY_LENGTH, `${name}.secretKey`);
  if (!equalBytes(nacl.scalarMult.base(keyPair.secretKey), keyPair.publicKey)) {
    throw new CryptoInputError(`${name}.publicKey`, 'does not match the secret key');
  }
}

/** SHA-256 of the raw public key bytes, lower-case hex (64 digits). Same as `sha256sum` of the key. */
export function publicKeyFingerprint(publicKey: Uint8Array): string {
  abytes(publicKey, 32, 'publicKey');
  return createHash('sha256').update(publicKey).digest('hex');
}

/**
 * The first 16 hex digits (64 bits) of `publicKeyFingerprint`, for logs and UIs. Fine for a
 * human to compare two keys; not for anything that must resist a deliberate collision search —
 * compare the full fingerprint or the key itself there.
 */
export function shortFingerprint(publicKey: Uint8Array): string {
  return publicKeyFingerprint(publicKey).slice(0, 16);
}

export interface WriteKeyFileOptions {
  /** Replace an existing file. Default false: an existing file is an error (EEXIST). */
  overwrite?: boolean;
}

/** Writes an identity key file with mode 0600 (see `writePrivateJsonFile`). */
export async function writeKeyFile(path: string, identity: Identity, options: WriteKeyFileOptions = {}): Promise<void> {
  await writePrivateJsonFile(path, serializeIdentity(identity), options);
}

/**
 * Writes key material atomically: a temp file in the same directory, created exclusively with
 * mode 0600, written and fsynced, then moved into place — `rename` when overwriting, `link` (which
 * fails if the target exists, with no window between check and create) otherwise. A crash leaves
 * either the old file or the new one, never a partial key.
 */
export async function writePrivateJsonFile(path: string, contents: object, options: WriteKeyFileOptions = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(tmp, 'wx', 0o600);
  try {
    // The umask can only clear bits of 0600; chmod anyway so the mode is exactly 0600.
    await handle.chmod(0o600);
    await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`, 'utf8');
    await handle.sync();
    await handle.close();
    handle = undefined;
    if (options.overwrite === true) {
      await rename(tmp, path);
    } else {
      await link(tmp, path);
    }
  } finally {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    // After rename the temp name is gone (ENOENT); after link or failure it must be removed.
    await unlink(tmp).catch(() => undefined);
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename/link itself has happened.
  } finally {
    await handle.close();
  }
}

/** Thrown when a key file cannot be used; the message names the file, never its contents. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';

  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`key file ${path}: ${detail}`, options);
  }
}

/**
 * Reads the JSON of a key file after checking, on the open descriptor (no stat/open race), that
 * it is a regular file and that group and others have no permission bits at all. Mode bits are
 * not checked on Windows, where they do not describe access.
 */
export async function readPrivateJsonFile(path: string): Promise<unknown> {
  // O_NONBLOCK so a FIFO planted at the path cannot hang the caller; no effect on regular files.
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new KeyFileError(path, 'not a regular file');
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyFileError(path, `mode ${mode} gives group or others access to a private key; run \`chmod 600 ${path}\``);
    }
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // JSON.parse's message quotes the text around the error, which is key material.
    throw new KeyFileError(path, 'not valid JSON');
  }
}

/** Reads and checks an identity key file (see `readPrivateJsonFile` and `parseIdentity`). */
export async function readKeyFile(path: string): Promise<Identity> {
  const json = await readPrivateJsonFile(path);
  try {
    return parseIdentity(json);
  } catch (error) {
    if (error instanceof CryptoInputError) {
      throw new KeyFileError(path, error.message, { cause: error });
    }
    throw error;
  }
}

/** Reads the signing key pair from a signing-only key file or a full identity file. */
export async function readSigningKeyFile(path: string): Promise<SigningKeyPair> {
  const json = await readPrivateJsonFile(path);
  try {
    return parseSigningKeyPair(json);
  } catch (error) {
    if (error instanceof CryptoInputError) {
      throw new KeyFileError(path, error.message, { cause: error });
    }
    throw error;
  }
}

export async function writeSigningKeyFile(path: string, keyPair: SigningKeyPair, options: WriteKeyFileOptions = {}): Promise<void> {
  await writePrivateJsonFile(path, serializeSigningKeyPair(keyPair), options);
}

export interface LoadedSigningKey {
  keyPair: SigningKeyPair;
  /** True if this call created the file. */
  created: boolean;
}

/**
 * The coordinator's ledger signing key: reads the Ed25519 key file at `path`, or creates it
 * (mode 0600) if absent. Safe when several replicas start at once: creation is exclusive, and a
 * replica that loses the race reads the winner's key.
 */
export async function loadOrCreateSigningKey(path: string): Promise<LoadedSigningKey> {
  try {
    return { keyPair: await readSigningKeyFile(path), created: false };
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  const keyPair = generateSigningKeyPair();
  try {
    await writeSigningKeyFile(path, keyPair);
    return { keyPair, created: true };
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  return { keyPair: await readSigningKeyFile(path), created: false };
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
