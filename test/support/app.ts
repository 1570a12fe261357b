import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../apps/coordinator/src/app.factory';
import { type AppConfig, loadConfig } from '../../apps/coordinator/src/config/config';

export interface RunningApp {
  app: NestExpressApplication;
  baseUrl: string;
  config: AppConfig;
  close(): Promise<void>;
}

/** Starts the coordinator in-process on an ephemeral port against the given database, with its own ledger key. */
export async function startTestApp(databaseUrl: string, overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'concord-app-'));
  // The rate limiter is off unless a test turns it on: tests drive many requests from one address.
  const config: AppConfig = {
    ...loadConfig({ LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', CONCORD_DATA_DIR: dataDir, CONCORD_RATE_LIMIT_RPS: '0' }),
    databaseUrl,
    ...overrides,
  };
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, config, close: () => app.close() };
}

/** An HTTP call with a Bearer key and an optional JSON body: the status and the parsed JSON (or null). */
export async function apiCall(
  baseUrl: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
