import {
  base64ToBytes,
  type BoxKeyPair,
  bytesToBase64,
  CryptoInputError,
  equalBytes,
  KeyFileError,
  readPrivateJsonFile,
  writePrivateJsonFile,
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

async function readBoxKeyFile(path: string): Promise<BoxKeyPair> {
  return parseBoxKeyFile(path, await readPrivateJsonFile(path));
}

/** Created exclusively with mode 0600 (libs/crypto `writePrivateJsonFile`): fails if another replica won the race. */
async function writeBoxKeyFile(path: string, keyPair: BoxKeyPair): Promise<void> {
  const contents: BoxKeyFile = {
    version: 1,
    boxPublicKey: bytesToBase64(keyPair.publicKey),
    boxSecretKey: bytesToBase64(keyPair.secretKey),
  };
  await writePrivateJsonFile(path, contents);
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
