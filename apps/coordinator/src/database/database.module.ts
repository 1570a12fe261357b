import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module';
import type { AppConfig } from '../config/config';
import { dataSourceOptions } from './data-source-options';
import { DatabaseEndpoint } from './database-endpoint';

@Global()
@Module({
  providers: [
    {
      provide: DatabaseEndpoint,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => DatabaseEndpoint.open(config),
    },
  ],
  exports: [DatabaseEndpoint],
})
class DatabaseEndpointModule implements OnApplicationShutdown {
  constructor(
    @Inject(DatabaseEndpoint) private readonly endpoint: DatabaseEndpoint,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    // The pool must close before an embedded server stops under it.
    const dataSource = this.moduleRef.get(DataSource, { strict: false });
    if (dataSource.isInitialized) await dataSource.destroy();
    await this.endpoint.close();
  }
}

@Module({
  imports: [
    DatabaseEndpointModule,
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG, DatabaseEndpoint],
      useFactory: (config: AppConfig, endpoint: DatabaseEndpoint) => ({
        ...dataSourceOptions(endpoint.url, config.dbPoolSize, config.migrationsRun),
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
})
export class DatabaseModule {}
