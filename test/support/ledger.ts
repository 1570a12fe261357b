import { generateSigningKeyPair, type SigningKeyPair } from '@concord/crypto';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../apps/coordinator/src/database/data-source-options';
import { InstitutionsRepository } from '../../apps/coordinator/src/institutions/institutions.repository';
import { InstitutionsService } from '../../apps/coordinator/src/institutions/institutions.service';
import { LedgerKey } from '../../apps/coordinator/src/ledger/ledger-key';
import { LedgerRepository } from '../../apps/coordinator/src/ledger/ledger.repository';
import { LedgerService } from '../../apps/coordinator/src/ledger/ledger.service';
import { createTestDatabase, type TestDatabase } from './database';

export interface LedgerHarness {
  db: TestDatabase;
  dataSource: DataSource;
  repository: LedgerRepository;
  ledger: LedgerService;
  institutions: InstitutionsService;
  keyPair: SigningKeyPair;
  close(): Promise<void>;
}

/** A migrated test database with the ledger's real repository and service wired by hand. */
export async function createLedgerHarness(poolSize = 10): Promise<LedgerHarness> {
  const db = await createTestDatabase();
  const dataSource = new DataSource(dataSourceOptions(db.url, poolSize));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  const keyPair = generateSigningKeyPair();
  const repository = new LedgerRepository(dataSource);
  const ledger = new LedgerService(repository, LedgerKey.fromKeyPair(keyPair));
  const institutions = new InstitutionsService(new InstitutionsRepository(dataSource), ledger);
  return {
    db,
    dataSource,
    repository,
    ledger,
    institutions,
    keyPair,
    async close(): Promise<void> {
      if (dataSource.isInitialized) await dataSource.destroy();
      await db.close();
    },
  };
}

export const ADMIN = { kind: 'api_key', id: '00000000-0000-0000-0000-000000000001', role: 'admin' } as const;
