import type { Client } from 'pg';

/** One md5 per table over every row's text form: equal before and after ⇔ no row changed. */
export async function tableChecksum(sql: Client, tables: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const table of tables) {
    const { rows } = await sql.query<{ h: string }>(
      `SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS h FROM ${table} x`,
    );
    parts.push(rows[0].h);
  }
  return parts.join(',');
}

export const AUDITED_TABLES = [
  'institutions',
  'privacy_budgets',
  'ledger_entries',
  'tasks',
  'pool_examples',
  'jobs',
  'batches',
  'submissions',
  'released_labels',
  'agents',
  'enrollment_tokens',
] as const;
