import { Injectable } from '@nestjs/common';
import { LedgerRepository } from './ledger.repository';
import { LedgerService } from './ledger.service';
import { type LedgerVerificationReport, verifyLedger } from './verify-ledger';

@Injectable()
export class LedgerVerificationService {
  constructor(
    private readonly repository: LedgerRepository,
    private readonly ledger: LedgerService,
  ) {}

  verify(): Promise<LedgerVerificationReport> {
    return verifyLedger(this.repository, this.ledger.publicKey.publicKey);
  }
}
