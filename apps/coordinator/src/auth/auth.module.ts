import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeysRepository } from './api-keys.repository';
import { ApiKeysService } from './api-keys.service';
import { RolesGuard } from './roles';

@Global()
@Module({
  providers: [ApiKeysRepository, ApiKeysService, { provide: APP_GUARD, useClass: RolesGuard }],
  exports: [ApiKeysService],
})
export class AuthModule {}
