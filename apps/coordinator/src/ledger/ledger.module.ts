import { Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config';
import { BudgetsController, LedgerController } from './ledger.controller';
import { LedgerKey } from './ledger-key';
import { LedgerVerificationService } from './ledger-verification.service';
import { LedgerRepository } from './ledger.repository';
import { LEDGER_KEY, LedgerService } from './ledger.service';

@Module({
  providers: [
    LedgerRepository,
    LedgerService,
    LedgerVerificationService,
    {
      provide: LEDGER_KEY,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<LedgerKey> => {
        const { key, created } = await LedgerKey.load(config.ledgerKeyFile);
        new Logger('LedgerKey').log(`${created ? 'created' : 'loaded'} ledger signing key ${key.fingerprint} (${config.ledgerKeyFile})`);
        return key;
      },
    },
  ],
  controllers: [BudgetsController, LedgerController],
  exports: [LedgerService, LedgerRepository],
})
export class LedgerModule {}
