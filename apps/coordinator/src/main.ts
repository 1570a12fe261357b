import 'reflect-metadata';
import { Logger } from 'nestjs-pino';
import { createApp } from './app.factory';
import { ConfigError, loadConfig, redactDatabaseUrl } from './config/config';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`concord: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let app;
  try {
    app = await createApp(config);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    const where = config.databaseUrl ? `DATABASE_URL (${redactDatabaseUrl(config.databaseUrl)})` : 'the embedded database';
    process.stderr.write(`concord: could not start: cannot use ${where}: ${reason}\n`);
    process.exit(1);
  }
  let closing = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    app.get(Logger).log(`${signal} received: closing`);
    // close() runs every shutdown hook: the pool drains and an embedded database flushes to disk.
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`concord: error while closing: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  try {
    await app.listen(config.port, config.host);
    app
      .get(Logger)
      .log(
        `Concord coordinator listening on ${config.host}:${config.port}; database: ${config.databaseUrl ? redactDatabaseUrl(config.databaseUrl) : `embedded PGlite (${config.embeddedStorage})`}`,
      );
  } catch (err) {
    process.stderr.write(`concord: PORT ${config.port}: cannot listen: ${err instanceof Error ? err.message : String(err)}\n`);
    await app.close();
    process.exit(1);
  }
}

void bootstrap();
