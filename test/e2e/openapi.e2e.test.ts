import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type RunningApp } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

interface Operation {
  requestBody?: { content?: Record<string, { schema?: unknown; example?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

/** Routes whose success body is not JSON (Prometheus text, model weights) or empty. */
const NON_JSON = new Set(['get /metrics', 'get /jobs/{id}/student/weights.bin']);

describe('the OpenAPI document', () => {
  let db: TestDatabase;
  let running: RunningApp;
  let doc: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, { properties?: Record<string, { example?: unknown }> }> };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    running = await startTestApp(db.url);
    doc = (await (await fetch(`${running.baseUrl}/docs-json`)).json()) as typeof doc;
  });

  afterAll(async () => {
    await running?.close();
    await db?.close();
  });

  it('documents a success response with a schema for every JSON route', () => {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const key = `${method} ${path}`;
        const success = Object.entries(op.responses ?? {}).filter(([code]) => code.startsWith('2'));
        if (success.length === 0) missing.push(`${key}: no 2xx response`);
        else if (!NON_JSON.has(key) && !success.some(([code, r]) => code === '204' || r.content?.['application/json']?.schema)) {
          missing.push(`${key}: no response schema`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('gives every request body a schema, and an example for every field', () => {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.requestBody) continue;
        const schema = op.requestBody.content?.['application/json']?.schema as { $ref?: string } | undefined;
        if (!schema?.$ref) {
          missing.push(`${method} ${path}: no body schema`);
          continue;
        }
        const name = schema.$ref.split('/').pop()!;
        for (const [field, prop] of Object.entries(doc.components.schemas[name]?.properties ?? {})) {
          if (prop.example === undefined) missing.push(`${method} ${path}: ${name}.${field} has no example`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});
