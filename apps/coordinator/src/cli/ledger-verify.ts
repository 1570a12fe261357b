import 'reflect-metadata';
import { base64ToBytes, readSigningKeyFile } from '@concord/crypto';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/config';
import { dataSourceOptions } from '../database/data-source-options';
import { DatabaseEndpoint } from '../database/database-endpoint';
import { LedgerRepository } from '../ledger/ledger.repository';
import { verifyLedger } from '../ledger/verify-ledger';

/**
 * `npm run --silent ledger:verify [-- --public-key <base64>]`: re-walks every institution's chain
 * in the configured database and prints one JSON line; exits 1 if anything is wrong. Without
 * --public-key the public half of the configured ledger key file is used (the key is never created here).
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const keyArg = args.indexOf('--public-key');
  const config = loadConfig();
  const publicKey =
    keyArg >= 0 ? base64ToBytes(args[keyArg + 1], '--public-key', 32) : (await readSigningKeyFile(config.ledgerKeyFile)).publicKey;
  const endpoint = await DatabaseEndpoint.open(config);
  const dataSource = new DataSource(dataSourceOptions(endpoint.url, 2));
  try {
    await dataSource.initialize();
    const report = await verifyLedger(new LedgerRepository(dataSource), publicKey);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return report.verified ? 0 : 1;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await endpoint.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof ConfigError ? `invalid configuration: ${err.message}` : err instanceof Error ? err.message : String(err);
    process.stdout.write(
      `${JSON.stringify({ institutions: 0, entries: 0, verified: false, problems: [{ problem: 'verification_failed', detail: message }] })}\n`,
    );
    process.exit(2);
  },
);
