import type { NestExpressApplication } from '@nestjs/platform-express';
import { createApp } from '../../apps/coordinator/src/app.factory';
import { type AppConfig, loadConfig } from '../../apps/coordinator/src/config/config';

export interface RunningApp {
  app: NestExpressApplication;
  baseUrl: string;
  close(): Promise<void>;
}

/** Starts the coordinator in-process on an ephemeral port against the given database. */
export async function startTestApp(databaseUrl: string, overrides: Partial<AppConfig> = {}): Promise<RunningApp> {
  const config: AppConfig = { ...loadConfig({ LOG_LEVEL: 'silent' }), databaseUrl, ...overrides };
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, baseUrl: `http://127.0.0.1:${address.port}`, close: () => app.close() };
}
