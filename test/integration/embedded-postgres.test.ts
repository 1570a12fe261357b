import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedPostgres, startEmbeddedPostgres } from '../../apps/coordinator/src/database/embedded-postgres';
import { WireClient, wire } from '../support/pg-wire';

describe('embedded Postgres (PGlite behind the loopback multiplexer)', () => {
  let pg: EmbeddedPostgres;
  let pool: Pool;

  beforeAll(async () => {
    pg = await startEmbeddedPostgres({ maxConnections: 24 });
    pool = new Pool({ connectionString: pg.url, max: 12 });
    await pool.query(`CREATE TABLE counter (id int PRIMARY KEY, v int NOT NULL)`);
    await pool.query(`INSERT INTO counter VALUES (1, 0)`);
  });

  afterAll(async () => {
    await pool?.end();
    await pg?.stop();
  });

  it('keeps concurrent parameterised queries of different types apart (no interleaved Parse/Bind)', async () => {
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 2 === 0
          ? pool.query<{ x: string }>('SELECT $1::uuid::text AS x', [randomUUID()]).then((r) => r.rows[0].x.length === 36)
          : pool.query<{ x: string }>('SELECT ($1::bigint * 2)::text AS x', [i]).then((r) => r.rows[0].x === String(i * 2)),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
  });

  it('never lets another connection in between the Parse and the Sync of one query', async () => {
    const a = await WireClient.open(pg.port);
    const b = await WireClient.open(pg.port);
    try {
      // A parses its unnamed statement, then B runs a whole query with its own unnamed statement,
      // then A binds and executes. On a shared session that interleaves messages, A's Bind would
      // meet B's statement (a uuid parameter where A sends a bigint).
      a.send(wire.parse('SELECT ($1::bigint * 2)::text'));
      await new Promise((r) => setTimeout(r, 50));
      b.send(wire.parse('SELECT $1::uuid::text'), wire.bind(randomUUID()), wire.execute(), wire.sync());
      await new Promise((r) => setTimeout(r, 50));
      a.send(wire.bind('21'), wire.execute(), wire.sync());
      const [ra, rb] = await Promise.all([a.readUntilReady(), b.readUntilReady()]);
      expect(ra.errors).toEqual([]);
      expect(ra.data).toEqual(['42']);
      expect(rb.errors).toEqual([]);
      expect(rb.data[0]).toHaveLength(36);
    } finally {
      a.close();
      b.close();
    }
  });

  it('isolates transactions: concurrent read-modify-write under FOR UPDATE loses no update', async () => {
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const { rows } = await client.query<{ v: number }>('SELECT v FROM counter WHERE id = 1 FOR UPDATE');
          await new Promise((r) => setTimeout(r, 1));
          await client.query('UPDATE counter SET v = $1 WHERE id = 1', [rows[0].v + 1]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }),
    );
    expect((await pool.query<{ v: number }>('SELECT v FROM counter')).rows[0].v).toBe(40);
  });

  it('rolls back the transaction of a connection that goes away', async () => {
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query('UPDATE counter SET v = -1 WHERE id = 1');
    client.release(new Error('drop this connection'));
    expect((await pool.query<{ v: number }>('SELECT v FROM counter')).rows[0].v).toBe(40);
  });
});
