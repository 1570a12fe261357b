import { AgentKeyEntity } from './agent-key.entity';
import { AgentRequestNonceEntity } from './agent-request-nonce.entity';
import { AgentEntity } from './agent.entity';
import { EnrollmentTokenEntity } from './enrollment-token.entity';

/** The agents module's entities (listed in database/entities.ts). */
export const AGENT_ENTITIES = [AgentEntity, AgentKeyEntity, EnrollmentTokenEntity, AgentRequestNonceEntity];
