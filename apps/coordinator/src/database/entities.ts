import { AGENT_ENTITIES } from '../agents/entities';
import { ApiKeyEntity } from '../auth/entities/api-key.entity';
import { JOB_ENTITIES } from '../jobs/entities';
import { InstitutionEntity } from '../institutions/entities/institution.entity';
import { LedgerEntryEntity } from '../ledger/entities/ledger-entry.entity';
import { PrivacyBudgetEntity } from '../ledger/entities/privacy-budget.entity';

/** Every entity of the coordinator. The schema itself comes only from migrations. */
export const ENTITIES = [InstitutionEntity, PrivacyBudgetEntity, LedgerEntryEntity, ApiKeyEntity, ...AGENT_ENTITIES, ...JOB_ENTITIES];
