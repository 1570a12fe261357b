import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiKeyEntity, type ApiRole } from './entities/api-key.entity';

@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(role: ApiRole, label: string, secretSha256: string): Promise<ApiKeyEntity> {
    const repo = this.dataSource.getRepository(ApiKeyEntity);
    return repo.save(repo.create({ role, label, secretSha256, revokedAt: null }));
  }

  findActive(id: string): Promise<ApiKeyEntity | null> {
    return this.dataSource
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.id = :id AND k.revoked_at IS NULL', { id })
      .getOne();
  }
}
