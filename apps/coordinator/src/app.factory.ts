import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { createValidationPipe, ProblemFilter } from './common/problem';
import { rateLimiter } from './common/rate-limit';
import type { AppConfig } from './config/config';

export const API_VERSION = '0.1.0';

/** Builds the coordinator application (used by `main.ts` and by the e2e tests alike). */
export async function createApp(config: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    abortOnError: false,
    rawBody: true,
  });
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  app.use(rateLimiter(config.rateLimitRps));
  app.useBodyParser('json', { limit: '5mb' });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemFilter());

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Concord coordinator')
      .setDescription('Privacy-preserving federated distillation (PATE) with an auditable privacy ledger.')
      .setVersion(API_VERSION)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'admin or compliance API key' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
  return app;
}
