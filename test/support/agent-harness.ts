/**
 * Helpers for the agent's e2e tests: an in-process coordinator on PGlite with an admin key, the
 * real `concord-agent` CLI as a child process (run from source with tsx: one process, so a
 * SIGKILL really kills the agent), and a recording reverse proxy that sees every byte the agent
 * sends to the coordinator.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import { Client } from 'pg';
import { ApiKeysService } from '../../apps/coordinator/src/auth/api-keys.service';
import { COORDINATOR_KEYS, type CoordinatorKeys } from '../../apps/coordinator/src/agents/coordinator-keys';
import { apiCall, startTestApp, type RunningApp } from './app';
import { createTestDatabase, type TestDatabase } from './database';

const ROOT = resolve(__dirname, '../..');
const AGENT_MAIN = resolve(ROOT, 'apps/agent/src/main.ts');

export interface TestCoordinator {
  running: RunningApp;
  baseUrl: string;
  sql: Client;
  keys: CoordinatorKeys;
  call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startCoordinator(): Promise<TestCoordinator> {
  const db: TestDatabase = await createTestDatabase();
  const running = await startTestApp(db.url);
  const sql = new Client({ connectionString: db.url });
  await sql.connect();
  const admin = (await running.app.get(ApiKeysService).create('admin')).key;
  const call = (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> =>
    apiCall(running.baseUrl, admin, method, path, body);
  return {
    running,
    baseUrl: running.baseUrl,
    sql,
    keys: running.app.get<CoordinatorKeys>(COORDINATOR_KEYS),
    call,
    async close() {
      await sql.end();
      await running.close();
      await db.close();
    },
  };
}

/** A new institution with a generous coordinator-side budget, and a one-time enrollment token for it. */
export async function institutionWithToken(c: TestCoordinator, name: string): Promise<{ institutionId: string; token: string }> {
  const inst = await c.call('POST', '/institutions', { name, epsilonCap: 900, delta: 1e-5 });
  if (inst.status !== 201) throw new Error(`POST /institutions: ${inst.status} ${JSON.stringify(inst.json)}`);
  const token = await c.call('POST', `/institutions/${inst.json.id}/enrollment-tokens`, {});
  return { institutionId: inst.json.id, token: token.json.token };
}

export interface JobSpec {
  participants: string[];
  mechanism: Record<string, unknown>;
  examples: number[][];
  classes: string[];
  batchSize: number;
  minTeachers: number;
}

/** Creates a task with the given public pool, a job over all of it, and starts the job. */
export async function startJob(c: TestCoordinator, spec: JobSpec): Promise<string> {
  const width = spec.examples[0].length;
  const task = await c.call('POST', '/tasks', {
    name: `task-${Date.now()}`,
    inputSpec: { kind: 'tabular', features: Array.from({ length: width }, (_, i) => ({ name: `f${i}` })) },
    classes: spec.classes,
  });
  if (task.status !== 201) throw new Error(`POST /tasks: ${task.status} ${JSON.stringify(task.json)}`);
  const pool = await c.call('POST', `/tasks/${task.json.id}/pool`, { split: 'public', examples: spec.examples });
  if (pool.status !== 201) throw new Error(`pool: ${pool.status} ${JSON.stringify(pool.json)}`);
  const job = await c.call('POST', '/jobs', {
    taskId: task.json.id,
    mechanism: spec.mechanism,
    participants: spec.participants,
    queries: spec.examples.length,
    batchSize: spec.batchSize,
    batchDeadlineMs: 30_000,
    minTeachers: spec.minTeachers,
    delta: 1e-5,
  });
  if (job.status !== 201) throw new Error(`POST /jobs: ${job.status} ${JSON.stringify(job.json)}`);
  const started = await c.call('POST', `/jobs/${job.json.id}/start`);
  if (started.json?.status !== 'running') throw new Error(`start: ${JSON.stringify(started.json)}`);
  return job.json.id as string;
}

export async function waitForJob(c: TestCoordinator, jobId: string, statuses: string[], timeoutMs = 20_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await c.call('GET', `/jobs/${jobId}`);
    if (statuses.includes(job.json.status)) return job.json;
    if (Date.now() > until) throw new Error(`job ${jobId} is ${job.json.status}, never ${statuses.join('/')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface AgentProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `concord-agent <args>` from source, as one node process. */
export function spawnAgent(args: string[], env: Record<string, string> = {}): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', AGENT_MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function runAgent(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnAgent(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export interface RecordedExchange {
  method: string;
  url: string;
  /** Request headers as received, raw name/value pairs. */
  rawHeaders: string[];
  body: Buffer;
  status?: number;
  responseBody?: Buffer;
}

/** Rewrites a JSON answer of the coordinator ("METHOD /path", parsed body) → the body sent on. */
export type Rewrite = (route: string, json: any) => any;

/**
 * A reverse proxy in front of the coordinator that records every request byte (and the answers).
 * `beforeReply` can withhold an answer after the coordinator has processed the request: the test
 * then kills the agent, which never learns the outcome — a crash between send and response.
 * `rewrite` can change the coordinator's JSON answers on their way back (a man in the middle).
 */
export class RecordingProxy {
  readonly exchanges: RecordedExchange[] = [];
  beforeReply?: (exchange: RecordedExchange) => 'deliver' | 'withhold';
  rewrite?: Rewrite;
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const exchange: RecordedExchange = {
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: [...req.rawHeaders],
      body: Buffer.concat(chunks),
    };
    this.exchanges.push(exchange);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string' && !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name)) headers[name] = value;
    }
    const upstream = await fetch(`${this.target}${exchange.url}`, {
      method: exchange.method,
      headers,
      body: exchange.body.length > 0 ? exchange.body : undefined,
    });
    exchange.status = upstream.status;
    exchange.responseBody = Buffer.from(await upstream.arrayBuffer());
    if (this.beforeReply?.(exchange) === 'withhold') {
      req.socket.destroy();
      return;
    }
    const type = upstream.headers.get('content-type');
    let reply = exchange.responseBody;
    if (this.rewrite && type?.includes('json') && reply.length > 0) {
      reply = Buffer.from(JSON.stringify(this.rewrite(`${exchange.method} ${exchange.url}`, JSON.parse(reply.toString()))));
    }
    res.writeHead(upstream.status, type ? { 'content-type': type } : {});
    res.end(reply);
  }

  /** "METHOD /path" of every request so far. */
  get routes(): string[] {
    return this.exchanges.map((e) => `${e.method} ${e.url}`);
  }

  /** Forgets the requests so far and sets (or clears) the rewrite. */
  reset(rewrite?: Rewrite): void {
    this.exchanges.length = 0;
    this.rewrite = rewrite;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
