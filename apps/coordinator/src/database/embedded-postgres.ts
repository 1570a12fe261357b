import { Worker } from 'node:worker_threads';

/**
 * Embedded Postgres: PGlite (Postgres compiled to WebAssembly) served over the Postgres wire
 * protocol on loopback, so the application talks to it through the ordinary `pg` driver exactly
 * as it talks to a real server.
 *
 * PGlite runs in a worker thread because its queries execute synchronously inside WebAssembly:
 * in the main thread a long query would stall the HTTP server's event loop.
 *
 * PGlite is a single session, so several client connections must take turns on it. The worker
 * serves them with its own small multiplexer rather than pglite-socket's: that one hands the
 * session to another connection between the messages of one extended-protocol query (Parse, Bind,
 * Execute … Sync), so two connections' unnamed statements and parameters can mix — observed here as
 * a UUID parameter bound to another query's bigint. Here a connection holds the session for a
 * whole unit (everything up to Sync, or one simple Query), and for as long as it has a transaction
 * block open; a connection that closes mid-transaction is rolled back. Transactions are therefore
 * serialised — isolation holds trivially, throughput is that of one session.
 */
export interface EmbeddedPostgresOptions {
  /** Directory for the data files; `undefined` keeps the database in memory. */
  dataDir?: string;
  /** Loopback port; 0 lets the OS choose one. */
  port?: number;
  /** Connections beyond this are refused (the pool size plus a few). */
  maxConnections?: number;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

// Plain CommonJS evaluated in the worker: works the same from compiled output and from tests
// that run the TypeScript sources directly.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { PGlite } = require('@electric-sql/pglite');

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

(async () => {
  let db;
  let server;
  try {
    db = workerData.dataDir ? await PGlite.create(workerData.dataDir) : await PGlite.create();
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err && err.message ? err.message : String(err) });
    return;
  }

  // The session: held by one connection at a time, for a unit or a whole transaction block.
  let owner = null;
  const waiting = [];
  function acquire(conn) {
    if (owner === conn) return Promise.resolve();
    if (owner === null) { owner = conn; return Promise.resolve(); }
    return new Promise((resolve) => waiting.push({ conn, resolve }));
  }
  function release(conn) {
    if (owner !== conn) return;
    owner = null;
    const next = waiting.shift();
    if (next) { owner = next.conn; next.resolve(); }
  }

  async function runUnit(conn, messages) {
    await acquire(conn);
    if (conn.closed) { await endSession(conn); return; }
    try {
      await db.runExclusive(async () => {
        for (const message of messages) {
          await db.execProtocolRawStream(message, {
            onRawData: (data) => { if (!conn.closed && data.length > 0) conn.socket.write(Buffer.from(data)); },
          });
        }
      });
    } finally {
      if (conn.closed || !db.isInTransaction()) {
        if (conn.closed && db.isInTransaction()) await db.exec('ROLLBACK').catch(() => undefined);
        release(conn);
      }
    }
  }

  async function endSession(conn) {
    const i = waiting.findIndex((w) => w.conn === conn);
    if (i >= 0) waiting.splice(i, 1);
    if (owner === conn) {
      if (db.isInTransaction()) await db.exec('ROLLBACK').catch(() => undefined);
      release(conn);
    }
  }

  // Splits the buffer into complete messages and groups them into units.
  async function drain(conn) {
    for (;;) {
      const buf = conn.buffer;
      if (!conn.started) {
        if (buf.length < 8) return;
        const length = buf.readInt32BE(0);
        if (buf.length < length) return;
        const code = buf.readInt32BE(4);
        conn.buffer = buf.subarray(length);
        if (code === SSL_REQUEST) { conn.socket.write('N'); continue; }
        if (code === CANCEL_REQUEST) { conn.socket.end(); return; }
        conn.started = true;
        await runUnit(conn, [new Uint8Array(buf.subarray(0, length))]);
        continue;
      }
      if (buf.length < 5) return;
      const length = 1 + buf.readInt32BE(1);
      if (buf.length < length) return;
      const type = String.fromCharCode(buf[0]);
      const message = new Uint8Array(buf.subarray(0, length));
      conn.buffer = buf.subarray(length);
      if (type === 'X') { conn.socket.end(); return; }
      conn.pending.push(message);
      // A unit ends with Sync (extended protocol), a simple Query, or a Flush.
      if (type === 'S' || type === 'Q' || type === 'H') {
        const unit = conn.pending;
        conn.pending = [];
        await runUnit(conn, unit);
      }
    }
  }

  const connections = new Set();
  server = net.createServer((socket) => {
    if (connections.size >= workerData.maxConnections) { socket.end(); return; }
    const conn = { socket, buffer: Buffer.alloc(0), pending: [], started: false, closed: false, chain: Promise.resolve() };
    connections.add(conn);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => {
      conn.buffer = conn.buffer.length ? Buffer.concat([conn.buffer, chunk]) : chunk;
      conn.chain = conn.chain.then(() => drain(conn)).catch(() => socket.destroy());
    });
    const close = () => {
      if (conn.closed) return;
      conn.closed = true;
      connections.delete(conn);
      conn.chain = conn.chain.then(() => endSession(conn)).catch(() => undefined);
    };
    socket.on('close', close);
    socket.on('error', close);
  });
  server.listen(workerData.port, '127.0.0.1', () => {
    parentPort.postMessage({ type: 'ready', port: server.address().port });
  });
  server.on('error', (err) => parentPort.postMessage({ type: 'error', message: err.message }));

  parentPort.on('message', async (msg) => {
    if (msg && msg.type === 'stop') {
      await new Promise((resolve) => { server.close(() => resolve()); for (const c of connections) c.socket.destroy(); });
      try { await db.close(); } catch (_) {}
      parentPort.postMessage({ type: 'stopped' });
    }
  });
})();
`;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  if (options.dataDir) {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(options.dataDir, { recursive: true });
  }
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      dataDir: options.dataDir,
      port: options.port ?? 0,
      maxConnections: options.maxConnections ?? 32,
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    const onError = (err: Error): void => reject(new Error(`embedded Postgres failed to start: ${err.message}`));
    worker.once('error', onError);
    worker.once('exit', (code) => reject(new Error(`embedded Postgres worker exited with code ${code}`)));
    worker.once('message', (msg: { type: string; port?: number; message?: string }) => {
      worker.off('error', onError);
      if (msg.type === 'ready' && typeof msg.port === 'number') resolve(msg.port);
      else reject(new Error(`embedded Postgres failed to start: ${msg.message ?? 'unknown error'}`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    port,
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop(): Promise<void> {
      stopped ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5_000);
        worker.on('message', (msg: { type: string }) => {
          if (msg.type === 'stopped') {
            clearTimeout(timer);
            void worker.terminate().then(() => resolve());
          }
        });
        worker.postMessage({ type: 'stop' });
      });
      return stopped;
    },
  };
}
