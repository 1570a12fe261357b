import { Worker } from 'node:worker_threads';

/**
 * Embedded Postgres: PGlite (Postgres compiled to WebAssembly) served over the Postgres wire
 * protocol on loopback, so the application talks to it through the ordinary `pg` driver exactly
 * as it talks to a real server.
 *
 * PGlite runs in a worker thread because its queries execute synchronously inside WebAssembly:
 * in the main thread a long query would stall the HTTP server's event loop.
 *
 * PGlite is a single-session database. pglite-socket multiplexes several client connections onto
 * it and, while one connection has a transaction open, runs only that connection's messages, so a
 * transaction is isolated from every other connection (stronger than READ COMMITTED: transactions
 * are serialised). `maxConnections` must be at least the pool size or extra connections are
 * refused.
 */
export interface EmbeddedPostgresOptions {
  /** Directory for the data files; `undefined` keeps the database in memory. */
  dataDir?: string;
  /** Loopback port; 0 lets the OS choose one. */
  port?: number;
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
const { PGlite } = require('@electric-sql/pglite');
const { PGLiteSocketServer } = require('@electric-sql/pglite-socket');
(async () => {
  let db;
  let server;
  try {
    db = workerData.dataDir ? await PGlite.create(workerData.dataDir) : await PGlite.create();
    server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port: workerData.port,
      maxConnections: workerData.maxConnections,
    });
    await server.start();
    const conn = server.getServerConn();
    parentPort.postMessage({ type: 'ready', port: Number(conn.slice(conn.lastIndexOf(':') + 1)) });
  } catch (err) {
    parentPort.postMessage({ type: 'error', message: err && err.message ? err.message : String(err) });
    return;
  }
  parentPort.on('message', async (msg) => {
    if (msg && msg.type === 'stop') {
      try { await server.stop(); } catch (_) {}
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
