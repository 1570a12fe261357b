import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import type { InstitutionStatus } from '../institutions/entities/institution.entity';
import { AgentKeyEntity } from './entities/agent-key.entity';
import { type AgentStatus } from './entities/agent.entity';
import { EnrollmentTokenEntity } from './entities/enrollment-token.entity';

const UNIQUE_VIOLATION = '23505';

/** An agent row joined with what requests about it need. */
export interface AgentRecord {
  id: string;
  institutionId: string;
  name: string | null;
  signingPublicKey: string;
  boxPublicKey: string;
  teachers: number | null;
  status: AgentStatus;
  createdAt: Date;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  revokedReason: string | null;
}

export interface InstitutionRecord {
  id: string;
  name: string;
  status: InstitutionStatus;
}

export interface NewAgent {
  tokenSha256: string;
  name: string | null;
  signingPublicKey: string;
  boxPublicKey: string;
  teachers: number | null;
}

export type EnrollmentOutcome =
  | { kind: 'enrolled'; agent: AgentRecord }
  | { kind: 'token_unknown' }
  | { kind: 'token_used' }
  | { kind: 'token_expired' }
  | { kind: 'institution_unavailable'; status: InstitutionStatus }
  | { kind: 'key_in_use' };

export type RotationOutcome =
  { kind: 'rotated'; agent: AgentRecord } | { kind: 'not_active' } | { kind: 'key_changed' } | { kind: 'key_in_use' };

export type RevocationOutcome =
  { kind: 'revoked'; agent: AgentRecord } | { kind: 'not_found' } | { kind: 'already_revoked'; agent: AgentRecord };

const AGENT_COLUMNS = `id, institution_id, name, signing_public_key, box_public_key, teachers, status, created_at, rotated_at, revoked_at, revoked_reason`;

interface AgentRow {
  id: string;
  institution_id: string;
  name: string | null;
  signing_public_key: string;
  box_public_key: string;
  teachers: number | null;
  status: AgentStatus;
  created_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

function toAgent(row: AgentRow): AgentRecord {
  return {
    id: row.id,
    institutionId: row.institution_id,
    name: row.name,
    signingPublicKey: row.signing_public_key,
    boxPublicKey: row.box_public_key,
    teachers: row.teachers,
    status: row.status,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

/** Rolls a transaction back and carries the outcome out of it. */
class Abort<T> extends Error {
  constructor(readonly outcome: T) {
    super('transaction aborted');
  }
}

type Queryable = Pick<EntityManager, 'query'>;

/** Rows of a statement: TypeORM answers UPDATE and DELETE with `[rows, affected]`, everything else with the rows. */
async function rowsOf<T>(runner: Queryable, sql: string, params: unknown[] = []): Promise<T[]> {
  const result = await runner.query<unknown>(sql, params);
  if (/^\s*(UPDATE|DELETE)\b/i.test(sql)) return (result as [T[], number])[0];
  return result as T[];
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string }).code === UNIQUE_VIOLATION;
}

/**
 * Adds an agent's current key pair to the history. The history's unique signing key refuses a key
 * that any agent ever held, also when a concurrent enrollment or rotation takes it first.
 */
async function insertCurrentKey(
  manager: Queryable,
  agentId: string,
  signingPublicKey: string,
  boxPublicKey: string,
  validFrom: Date | null,
): Promise<void> {
  try {
    await manager.query(
      `INSERT INTO agent_keys (agent_id, signing_public_key, box_public_key, valid_from) VALUES ($1, $2, $3, COALESCE($4::timestamptz, now()))`,
      [agentId, signingPublicKey, boxPublicKey, validFrom],
    );
  } catch (error) {
    if (isUniqueViolation(error)) throw new Abort({ kind: 'key_in_use' as const });
    throw error;
  }
}

@Injectable()
export class AgentsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private async inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction('READ COMMITTED', work);
    } catch (error) {
      if (error instanceof Abort) return error.outcome as T;
      throw error;
    }
  }

  async findInstitution(id: string): Promise<InstitutionRecord | null> {
    const rows = await this.dataSource.query<InstitutionRecord[]>(`SELECT id, name, status FROM institutions WHERE id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** Stores a token's hash; `expires_at` comes from the database clock, the one `enroll` compares with. */
  async insertToken(institutionId: string, tokenSha256: string, ttlSeconds: number, createdBy: string): Promise<EnrollmentTokenEntity> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO enrollment_tokens (institution_id, token_sha256, created_by, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING id`,
      [institutionId, tokenSha256, createdBy, ttlSeconds],
    );
    return this.dataSource.getRepository(EnrollmentTokenEntity).findOneByOrFail({ id: rows[0].id });
  }

  listTokens(institutionId: string): Promise<EnrollmentTokenEntity[]> {
    return this.dataSource.getRepository(EnrollmentTokenEntity).find({ where: { institutionId }, order: { createdAt: 'DESC', id: 'ASC' } });
  }

  /** The database's clock, to classify tokens as the enrollment transaction does. */
  async now(): Promise<Date> {
    const rows = await this.dataSource.query<{ now: Date }[]>(`SELECT now() AS now`);
    return rows[0].now;
  }

  /**
   * Consumes the token and creates the agent in one transaction. The conditional UPDATE is the
   * single point of decision: of two concurrent enrollments with one token, the second waits on
   * the row lock, then finds `used_at` set and matches nothing. Any refusal after it rolls the
   * consumption back, so a refused enrollment writes nothing.
   */
  enroll(agent: NewAgent): Promise<EnrollmentOutcome> {
    return this.inTransaction(async (manager): Promise<EnrollmentOutcome> => {
      const consumed = await rowsOf<{ id: string; institution_id: string }>(
        manager,
        `UPDATE enrollment_tokens SET used_at = now()
          WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > now()
          RETURNING id, institution_id`,
        [agent.tokenSha256],
      );
      const token = consumed[0];
      if (!token) {
        const rows = await manager.query<{ used: boolean }[]>(
          `SELECT used_at IS NOT NULL AS used FROM enrollment_tokens WHERE token_sha256 = $1`,
          [agent.tokenSha256],
        );
        if (rows.length === 0) return { kind: 'token_unknown' };
        return rows[0].used ? { kind: 'token_used' } : { kind: 'token_expired' };
      }
      // Lock the institution so a concurrent suspension cannot interleave with its activation.
      const institutions = await manager.query<{ status: InstitutionStatus }[]>(
        `SELECT status FROM institutions WHERE id = $1 FOR UPDATE`,
        [token.institution_id],
      );
      const status = institutions[0].status;
      if (status !== 'pending' && status !== 'active') throw new Abort<EnrollmentOutcome>({ kind: 'institution_unavailable', status });
      const taken = await manager.query<unknown[]>(`SELECT 1 FROM agent_keys WHERE signing_public_key = $1`, [agent.signingPublicKey]);
      if (taken.length > 0) throw new Abort<EnrollmentOutcome>({ kind: 'key_in_use' });
      let inserted: AgentRow[];
      try {
        inserted = await manager.query<AgentRow[]>(
          `INSERT INTO agents (institution_id, name, signing_public_key, box_public_key, teachers)
           VALUES ($1, $2, $3, $4, $5) RETURNING ${AGENT_COLUMNS}`,
          [token.institution_id, agent.name, agent.signingPublicKey, agent.boxPublicKey, agent.teachers],
        );
      } catch (error) {
        // A concurrent enrollment of the same key with another token won the race.
        if (isUniqueViolation(error)) throw new Abort<EnrollmentOutcome>({ kind: 'key_in_use' });
        throw error;
      }
      const created = toAgent(inserted[0]);
      await insertCurrentKey(manager, created.id, created.signingPublicKey, created.boxPublicKey, created.createdAt);
      await manager.query(`UPDATE enrollment_tokens SET agent_id = $1 WHERE id = $2`, [created.id, token.id]);
      await manager.query(`UPDATE institutions SET status = 'active' WHERE id = $1 AND status = 'pending'`, [token.institution_id]);
      return { kind: 'enrolled', agent: created };
    });
  }

  async findAgent(id: string): Promise<AgentRecord | null> {
    const rows = await this.dataSource.query<AgentRow[]>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [id]);
    return rows[0] ? toAgent(rows[0]) : null;
  }

  async listAgents(filter: { institutionId?: string; status?: AgentStatus }): Promise<AgentRecord[]> {
    const rows = await this.dataSource.query<AgentRow[]>(
      `SELECT ${AGENT_COLUMNS} FROM agents
        WHERE ($1::uuid IS NULL OR institution_id = $1) AND ($2::text IS NULL OR status = $2)
        ORDER BY created_at, id`,
      [filter.institutionId ?? null, filter.status ?? null],
    );
    return rows.map(toAgent);
  }

  keyHistory(agentId: string): Promise<AgentKeyEntity[]> {
    return this.dataSource.getRepository(AgentKeyEntity).find({ where: { agentId }, order: { validFrom: 'ASC', id: 'ASC' } });
  }

  /**
   * Records a request nonce; false if this agent already used it (a replay). The primary key
   * decides, so the refusal holds across every replica sharing the database.
   */
  async recordNonce(agentId: string, nonce: string, expiresAt: Date): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO agent_request_nonces (agent_id, nonce, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT ON CONSTRAINT "PK_agent_request_nonces" DO NOTHING RETURNING 1`,
      [agentId, nonce, expiresAt],
    );
    return rows.length === 1;
  }

  /** Deletes nonces past their expiry (their timestamps are stale by then); returns how many. */
  async deleteExpiredNonces(): Promise<number> {
    const rows = await rowsOf<unknown>(this.dataSource, `DELETE FROM agent_request_nonces WHERE expires_at < now() RETURNING 1`);
    return rows.length;
  }

  /**
   * Replaces an active agent's keys, if its current signing key is still the one the request was
   * verified with (a concurrent rotation wins otherwise), and retires the old pair in the history.
   */
  rotateKeys(agentId: string, verifiedSigningKey: string, signingPublicKey: string, boxPublicKey: string): Promise<RotationOutcome> {
    return this.inTransaction(async (manager): Promise<RotationOutcome> => {
      const rows = await manager.query<AgentRow[]>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1 FOR NO KEY UPDATE`, [agentId]);
      const current = rows[0] ? toAgent(rows[0]) : null;
      if (!current || current.status !== 'active') return { kind: 'not_active' };
      if (current.signingPublicKey !== verifiedSigningKey) return { kind: 'key_changed' };
      const taken = await manager.query<unknown[]>(`SELECT 1 FROM agent_keys WHERE signing_public_key = $1`, [signingPublicKey]);
      if (taken.length > 0) return { kind: 'key_in_use' };
      let updated: AgentRow[];
      try {
        updated = await rowsOf<AgentRow>(
          manager,
          `UPDATE agents SET signing_public_key = $2, box_public_key = $3, rotated_at = now() WHERE id = $1 RETURNING ${AGENT_COLUMNS}`,
          [agentId, signingPublicKey, boxPublicKey],
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new Abort<RotationOutcome>({ kind: 'key_in_use' });
        throw error;
      }
      await manager.query(
        `UPDATE agent_keys SET valid_until = now(), retired_because = 'rotated' WHERE agent_id = $1 AND valid_until IS NULL`,
        [agentId],
      );
      await insertCurrentKey(manager, agentId, signingPublicKey, boxPublicKey, null);
      return { kind: 'rotated', agent: toAgent(updated[0]) };
    });
  }

  /** Revokes an agent: from the commit on, every request it signs is refused. */
  revoke(agentId: string, reason: string): Promise<RevocationOutcome> {
    return this.inTransaction(async (manager): Promise<RevocationOutcome> => {
      const rows = await rowsOf<AgentRow>(
        manager,
        `UPDATE agents SET status = 'revoked', revoked_at = now(), revoked_reason = $2
          WHERE id = $1 AND status = 'active' RETURNING ${AGENT_COLUMNS}`,
        [agentId, reason],
      );
      if (rows.length === 0) {
        const existing = await manager.query<AgentRow[]>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [agentId]);
        return existing[0] ? { kind: 'already_revoked', agent: toAgent(existing[0]) } : { kind: 'not_found' };
      }
      await manager.query(
        `UPDATE agent_keys SET valid_until = now(), retired_because = 'revoked' WHERE agent_id = $1 AND valid_until IS NULL`,
        [agentId],
      );
      return { kind: 'revoked', agent: toAgent(rows[0]) };
    });
  }
}
