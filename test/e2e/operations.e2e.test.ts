import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../apps/coordinator/src/database/embedded-postgres';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

describe('operations endpoints over HTTP', () => {
  let db: TestDatabase;
  let running: RunningApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('GET /health answers 200 with the database up', async () => {
    const res = await fetch(`${running.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', db: 'up' });
  });

  it('GET /metrics serves the Prometheus text format, counting requests', async () => {
    await fetch(`${running.baseUrl}/health`);
    const res = await fetch(`${running.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/# TYPE concord_http_request_duration_seconds histogram/);
    expect(text).toMatch(/concord_http_request_duration_seconds_count\{method="GET",route="\/health",status="200"\} [1-9]/);
    expect(text).toMatch(/concord_process_cpu_user_seconds_total/);
  });

  it('GET /docs-json is an OpenAPI 3 document listing the routes, and /docs serves the UI', async () => {
    const res = await fetch(`${running.baseUrl}/docs-json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/metrics']));
    const ui = await fetch(`${running.baseUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger-ui/i);
  });

  it('answers unknown routes and malformed JSON with problem+json', async () => {
    const notFound = await fetch(`${running.baseUrl}/no-such-route`);
    expect(notFound.status).toBe(404);
    expect(notFound.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await notFound.json()).toMatchObject({ status: 404, instance: '/no-such-route' });

    const malformed = await fetch(`${running.baseUrl}/health`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"broken": ',
    });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('propagates a sane x-request-id and invents one otherwise', async () => {
    const given = await fetch(`${running.baseUrl}/health`, { headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const invented = await fetch(`${running.baseUrl}/health`, { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(invented.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('GET /health when the database goes away', () => {
  it('answers 503 with db down', async () => {
    const embedded = await startEmbeddedPostgres({ maxConnections: 20 });
    const running = await startTestApp(embedded.url, { dbPoolSize: 2 });
    try {
      expect((await fetch(`${running.baseUrl}/health`)).status).toBe(200);
      await embedded.stop();
      const res = await fetch(`${running.baseUrl}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ status: 'error', db: 'down' });
    } finally {
      await running.close().catch(() => undefined);
    }
  });
});

describe('rate limit', () => {
  it('answers 429 problem+json with Retry-After past the limit, and never limits /health', async () => {
    const db = await createTestDatabase();
    const running = await startTestApp(db.url, { rateLimitRps: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await fetch(`${running.baseUrl}/budgets`)).status);
      expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
      expect(statuses).toContain(429);
      const limited = await fetch(`${running.baseUrl}/budgets`);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toMatch(/problem\+json/);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      for (let i = 0; i < 20; i++) expect((await fetch(`${running.baseUrl}/health`)).status).toBe(200);
    } finally {
      await running.close();
      await db.close();
    }
  });
});
