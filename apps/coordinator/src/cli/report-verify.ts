import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { base64ToBytes, publicKeyFingerprint, readSigningKeyFile } from '@concord/crypto';
import { loadConfig } from '../config/config';
import { LedgerKey } from '../ledger/ledger-key';

/**
 * `npm run --silent report:verify -- <file> <signature-file> [--public-key <base64> | --url <coordinator>]`:
 * checks a report export's detached Ed25519 signature and prints one JSON line; exits 0 if it
 * verifies, 1 if it does not, 2 on a usage or input error. The key comes from --public-key, from
 * the coordinator's GET /ledger/public-key with --url, or else from the configured ledger key file.
 * The key written inside a JSON export is never used to verify it: a forger would write their own.
 */
interface Result {
  verified: boolean;
  file?: string;
  sha256?: string;
  keyFingerprint?: string;
  keySource?: string;
  schema?: string;
  report?: string;
  asOf?: string | null;
  error?: string;
}

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`);
  args.splice(i, 2);
  return value;
}

async function publicKeyFrom(keyArg: string | undefined, url: string | undefined): Promise<{ key: Uint8Array; source: string }> {
  if (keyArg !== undefined && url !== undefined) throw new Error('give either --public-key or --url, not both');
  if (keyArg !== undefined) return { key: base64ToBytes(keyArg, '--public-key', 32), source: 'argument' };
  if (url !== undefined) {
    const res = await fetch(new URL('/ledger/public-key', url));
    if (!res.ok) throw new Error(`GET ${url}/ledger/public-key: HTTP ${res.status}`);
    const body = (await res.json()) as { algorithm?: string; publicKey?: string };
    if (body.algorithm !== 'Ed25519') throw new Error(`the coordinator's ledger key is ${String(body.algorithm)}, not Ed25519`);
    return { key: base64ToBytes(body.publicKey, 'publicKey', 32), source: url };
  }
  const config = loadConfig();
  return { key: (await readSigningKeyFile(config.ledgerKeyFile)).publicKey, source: config.ledgerKeyFile };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const keyArg = option(args, '--public-key');
  const url = option(args, '--url');
  if (args.length !== 2) throw new Error('usage: report:verify -- <file> <signature-file> [--public-key <base64> | --url <coordinator>]');
  const [file, signatureFile] = args;
  const bytes = readFileSync(file);
  const signature = readFileSync(signatureFile, 'utf8').trim();
  const { key, source } = await publicKeyFrom(keyArg, url);
  const result: Result = {
    verified: LedgerKey.verifyDetached(bytes, signature, key),
    file,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    keyFingerprint: publicKeyFingerprint(key),
    keySource: source,
  };
  if (result.verified && file.endsWith('.json')) {
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as { schema?: string; report?: string; asOf?: string | null };
      Object.assign(result, { schema: doc.schema, report: doc.report, asOf: doc.asOf });
    } catch {
      // A signed file that is not JSON is still a signed file.
    }
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
  return result.verified ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stdout.write(
      `${JSON.stringify({ verified: false, error: err instanceof Error ? err.message : String(err) } satisfies Result)}\n`,
    );
    process.exit(2);
  },
);
