import type { Client } from 'pg';

/**
 * Where a charge transaction has got to, as Postgres' lock table shows it (each lock below is held
 * until the transaction ends):
 * - `budgets_locked`: it holds the row locks on privacy_budgets (SELECT … FOR UPDATE), nothing written yet;
 * - `ledger_appended`: it has also started appending to ledger_entries (and updating the budgets);
 * - `releasing`: it has also locked the job row for the release step (labels, batch state, next batch).
 */
export type ChargeStage = 'budgets_locked' | 'ledger_appended' | 'releasing';
export const CHARGE_STAGES: readonly ChargeStage[] = ['budgets_locked', 'ledger_appended', 'releasing'];

export interface ChargeTransaction {
  /** The backend running it. */
  pid: number;
  /** Its transaction id (32-bit xid, as pg_locks shows it). */
  xid: string;
  stage: ChargeStage;
}

/**
 * Watches the coordinator's charge transactions from outside the product, through `pg_locks` of the
 * database `sql` is connected to (give it a client of its own: it polls). A backend that holds a
 * row-level lock mode on privacy_budgets and has a transaction id is inside a charge transaction:
 * the ledger takes those locks first and nothing else in the coordinator takes them (budget reads and
 * the pre-checks of jobs take only AccessShareLock). After a SIGKILL of the coordinator,
 * `outcome(tx)` tells from Postgres' commit log whether the transaction was cut off (aborted) or had
 * committed first — which proves or disproves that the kill landed inside it.
 */
export class ChargeTransactionWatch {
  constructor(private readonly sql: Client) {}

  /** The charge transactions running now. */
  async running(): Promise<ChargeTransaction[]> {
    const { rows } = await this.sql.query<{ pid: number; xid: string | null; ledger: boolean; releasing: boolean }>(
      `SELECT l.pid,
              max(l.transactionid::text) FILTER (WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock') AS xid,
              coalesce(bool_or(c.relname = 'ledger_entries' AND l.mode = 'RowExclusiveLock'), false) AS ledger,
              coalesce(bool_or(c.relname = 'jobs' AND l.mode IN ('RowShareLock', 'RowExclusiveLock')), false) AS releasing
         FROM pg_locks l
         LEFT JOIN pg_class c ON l.locktype = 'relation' AND c.oid = l.relation
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        WHERE l.granted AND l.pid <> pg_backend_pid()
        GROUP BY l.pid
       HAVING bool_or(c.relname = 'privacy_budgets' AND l.mode IN ('RowShareLock', 'RowExclusiveLock'))`,
    );
    return rows
      .filter((r) => r.xid !== null)
      .map((r) => ({ pid: r.pid, xid: r.xid!, stage: r.releasing ? 'releasing' : r.ledger ? 'ledger_appended' : 'budgets_locked' }));
  }

  /**
   * Polls until a charge transaction is at `stage` and returns it. Null as soon as the one it saw
   * has gone past that stage or ended (a miss: try the next one), or after `timeoutMs`.
   */
  async waitFor(stage: ChargeStage, timeoutMs: number): Promise<ChargeTransaction | null> {
    const wanted = CHARGE_STAGES.indexOf(stage);
    let seen = false;
    for (const until = Date.now() + timeoutMs; Date.now() < until;) {
      const running = await this.running();
      const hit = running.find((t) => t.stage === stage);
      if (hit) return hit;
      if ((seen && running.length === 0) || running.some((t) => CHARGE_STAGES.indexOf(t.stage) > wanted)) return null;
      seen ||= running.length > 0;
    }
    return null;
  }

  /**
   * After the coordinator was killed: waits for the transaction's backend to go (Postgres aborts an
   * open transaction when its client's connection drops), then reads the transaction's fate.
   */
  async outcome(tx: ChargeTransaction, timeoutMs = 10_000): Promise<'committed' | 'aborted' | 'in progress'> {
    for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 20))) {
      const { rows } = await this.sql.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [tx.pid]);
      if (rows.length === 0) break;
    }
    // pg_xact_status needs the 64-bit id: add the epoch of the current one (minus one if the
    // 32-bit counter wrapped since).
    const { rows } = await this.sql.query<{ status: 'committed' | 'aborted' | 'in progress' }>(
      `WITH now AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS full_xid)
       SELECT pg_xact_status(((CASE WHEN $1::bigint > (full_xid & 4294967295) THEN (full_xid >> 32) - 1 ELSE full_xid >> 32 END << 32)
                              | $1::bigint)::text::xid8) AS status FROM now`,
      [tx.xid],
    );
    return rows[0].status;
  }
}
