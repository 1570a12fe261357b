import { Global, Logger, Module } from '@nestjs/common';
import { AGENT_AUTHENTICATOR } from '../auth/roles';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config';
import { LedgerModule } from '../ledger/ledger.module';
import { LedgerService } from '../ledger/ledger.service';
import { AgentRequestAuthenticator } from './agent-authenticator';
import { AgentsController, EnrollmentTokensController } from './agents.controller';
import { AgentsRepository } from './agents.repository';
import { AgentsService } from './agents.service';
import { loadOrCreateBoxKey } from './coordinator-box-key';
import { COORDINATOR_KEYS, CoordinatorKeys } from './coordinator-keys';
import { EnrollmentRateLimitGuard } from './enrollment-rate-limit.guard';
import { EnrollmentService } from './enrollment.service';

/**
 * Enrollment, agent identities and signed agent requests. Global so that the RolesGuard can
 * verify agent routes (AGENT_AUTHENTICATOR) and other modules can open envelopes sealed to the
 * coordinator (COORDINATOR_KEYS) without importing this module.
 */
@Global()
@Module({
  imports: [LedgerModule],
  providers: [
    AgentsRepository,
    AgentsService,
    EnrollmentService,
    EnrollmentRateLimitGuard,
    AgentRequestAuthenticator,
    { provide: AGENT_AUTHENTICATOR, useExisting: AgentRequestAuthenticator },
    {
      provide: COORDINATOR_KEYS,
      inject: [APP_CONFIG, LedgerService],
      useFactory: async (config: AppConfig, ledger: LedgerService): Promise<CoordinatorKeys> => {
        const { keyPair, created } = await loadOrCreateBoxKey(config.boxKeyFile);
        const keys = new CoordinatorKeys(ledger.publicKey.publicKey, keyPair, (bytes) => ledger.publicKey.signBytes(bytes));
        new Logger('CoordinatorKeys').log(`${created ? 'created' : 'loaded'} box key ${keys.boxPublicKeyBase64} (${config.boxKeyFile})`);
        return keys;
      },
    },
  ],
  controllers: [EnrollmentTokensController, AgentsController],
  exports: [AGENT_AUTHENTICATOR, COORDINATOR_KEYS, AgentsService],
})
export class AgentsModule {}
