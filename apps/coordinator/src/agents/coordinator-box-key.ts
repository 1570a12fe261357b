import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { link, open, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  base64ToBytes,
  type BoxKeyPair,
  bytesToBase64,
  CryptoInputError,
  equalBytes,
  KeyFileError,
  X25519_PUBLIC_KEY_LENGTH,
} from '@concord/crypto';
import nacl from 'tweetnacl';

/** `{ version: 1, boxPublicKey, boxSecretKey }`, base64: the shape of the coordinator's box key file. */
interface BoxKeyFile {
  version: 1;
  boxPublicKey: string;
  boxSecretKey: string;
}

function parseBoxKeyFile(path: string, json: unknown): BoxKeyPair {
  try {
    if (typeof json !== 'object' || json === null || (json as { version?: unknown }).version !== 1) {
      throw new CryptoInputError('keyFile.version', 'unsupported key file version (expected 1)');
    }
    const record = json as Record<string, unknown>;
    const secretKey = base64ToBytes(record.boxSecretKey, 'keyFile.boxSecretKey', 32);
    const publicKey = base64ToBytes(record.boxPublicKey, 'keyFile.boxPublicKey', X25519_PUBLIC_KEY_LENGTH);
    if (!equalBytes(nacl.scalarMult.base(secretKey), publicKey)) {
      throw new CryptoInputError('keyFile.boxPublicKey', 'does not match the secret key');
    }
    return { publicKey, secretKey };
  } catch (error) {
    if (error instanceof CryptoInputError) throw new KeyFileError(path, error.message, { cause: error });
    throw error;
  }
}

/** Reads the file after checking, on the open descriptor, that it is a regular file only its owner can read. */
async function readBoxKeyFile(path: string): Promise<BoxKeyPair> {
  const handle = await open(path, fsConstants.O_RDONLY | (fsConstants.O_NONBLOCK ?? 0));
  let text: string;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new KeyFileError(path, 'not a regular file');
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyFileError(path, `mode ${mode} gives group or others access to a private key; run \`chmod 600 ${path}\``);
    }
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse quotes the text near the error: key material.
    throw new KeyFileError(path, 'not valid JSON');
  }
  return parseBoxKeyFile(path, json);
}

/** Writes exclusively with mode 0600: temp file, fsync, then link (fails if another replica won the race). */
async function writeBoxKeyFile(path: string, keyPair: BoxKeyPair): Promise<void> {
  const contents: BoxKeyFile = {
    version: 1,
    boxPublicKey: bytesToBase64(keyPair.publicKey),
    boxSecretKey: bytesToBase64(keyPair.secretKey),
  };
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${JSON.stringify(contents, null, 2)}\n`, 'utf8');
    await handle.sync();
    await handle.close();
    await link(tmp, path);
  } finally {
    await handle.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * The coordinator's X25519 key pair, to which agents seal their answers: read from `path`, or
 * created there with mode 0600. Safe when several replicas start at once (the loser of the
 * creation race reads the winner's key), like `loadOrCreateSigningKey` for the ledger key.
 */
export async function loadOrCreateBoxKey(path: string): Promise<{ keyPair: BoxKeyPair; created: boolean }> {
  try {
    return { keyPair: await readBoxKeyFile(path), created: false };
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  const keyPair = nacl.box.keyPair();
  try {
    await writeBoxKeyFile(path, keyPair);
    return { keyPair, created: true };
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  return { keyPair: await readBoxKeyFile(path), created: false };
}
