import { HttpStatus, Injectable } from '@nestjs/common';
import { ProblemException } from '../common/problem';
import { type Actor, LedgerService } from '../ledger/ledger.service';
import type { InstitutionEntity } from './entities/institution.entity';
import { InstitutionsRepository } from './institutions.repository';

@Injectable()
export class InstitutionsService {
  constructor(
    private readonly repository: InstitutionsRepository,
    private readonly ledger: LedgerService,
  ) {}

  /** Creates an institution and opens its privacy budget, in one transaction. */
  async create(input: { name: string; epsilonCap: number; delta: number; reason?: string }, actor: Actor): Promise<InstitutionEntity> {
    return this.ledger.inTransaction(async (tx) => {
      const institution = await this.repository.insert(tx, input.name.trim());
      if (!institution)
        throw new ProblemException(
          HttpStatus.CONFLICT,
          'Institution exists',
          `an institution named ${JSON.stringify(input.name.trim())} already exists`,
        );
      await this.ledger.openBudget(tx, {
        institutionId: institution.id,
        epsilonCap: input.epsilonCap,
        delta: input.delta,
        actor,
        reason: input.reason ?? 'budget opened with the institution',
      });
      return institution;
    });
  }

  list(): Promise<InstitutionEntity[]> {
    return this.repository.list();
  }

  async get(id: string): Promise<InstitutionEntity> {
    const institution = await this.repository.find(id);
    if (!institution) throw new ProblemException(HttpStatus.NOT_FOUND, 'Institution not found', `no institution ${id}`);
    return institution;
  }
}
