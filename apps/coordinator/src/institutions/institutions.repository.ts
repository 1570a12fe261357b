import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { TransactionScope } from '../ledger/ledger.repository';
import { InstitutionEntity } from './entities/institution.entity';

@Injectable()
export class InstitutionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Inserts inside the caller's transaction; null if the name is taken. */
  async insert(scope: TransactionScope, name: string): Promise<InstitutionEntity | null> {
    const rows = await scope.query<{ id: string; name: string; status: InstitutionEntity['status']; created_at: Date }>(
      `INSERT INTO institutions (name, status) VALUES ($1, 'pending') ON CONFLICT ON CONSTRAINT "UQ_institutions_name" DO NOTHING
       RETURNING id, name, status, created_at`,
      [name],
    );
    const row = rows[0];
    return row
      ? Object.assign(new InstitutionEntity(), { id: row.id, name: row.name, status: row.status, createdAt: row.created_at })
      : null;
  }

  list(): Promise<InstitutionEntity[]> {
    return this.dataSource.getRepository(InstitutionEntity).find({ order: { name: 'ASC' } });
  }

  find(id: string): Promise<InstitutionEntity | null> {
    return this.dataSource.getRepository(InstitutionEntity).findOneBy({ id });
  }
}
