import { Body, Controller, Get, HttpStatus, Param, Patch, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedRequest, Public, Roles } from '../auth/roles';
import { InvalidInputException, ProblemException, uuidParam } from '../common/problem';
import {
  BudgetDto,
  ChangeCapDto,
  EntriesQueryDto,
  LedgerEntryDto,
  LedgerGroupDto,
  LedgerPageDto,
  LedgerVerificationDto,
  PublicKeyDto,
} from './dto/ledger.dto';
import type { StoredEntry } from './ledger.repository';
import { type Actor, LedgerService } from './ledger.service';
import { LedgerVerificationService } from './ledger-verification.service';

export function actorOf(req: AuthenticatedRequest): Actor {
  const p = req.principal;
  return p ? { kind: 'api_key', id: p.id, role: p.role } : { kind: 'system', id: 'unknown' };
}

function toEntryDto(e: StoredEntry): LedgerEntryDto {
  return {
    seq: e.seq,
    kind: e.kind,
    jobId: e.jobId,
    batchId: e.batchId,
    event: e.event,
    eventSchemaVersion: e.eventSchemaVersion,
    details: e.details,
    epsilonSpent: e.epsilonSpent,
    optimalOrder: e.optimalOrder,
    epsilonCap: e.epsilonCap,
    prevHash: e.prevHash,
    hash: e.hash,
    groupDigest: e.groupDigest,
    signature: e.signature,
    createdAt: e.createdAt,
  };
}

@ApiTags('budgets')
@ApiBearerAuth()
@Controller('budgets')
export class BudgetsController {
  constructor(private readonly ledger: LedgerService) {}

  @Get()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: [BudgetDto] })
  list(): Promise<BudgetDto[]> {
    return this.ledger.listBudgets();
  }

  @Get(':institutionId')
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: BudgetDto })
  get(@Param('institutionId', uuidParam('institutionId')) institutionId: string): Promise<BudgetDto> {
    return this.ledger.getBudget(institutionId);
  }

  @Patch(':institutionId/cap')
  @Roles('admin')
  @ApiOkResponse({ type: BudgetDto, description: 'The budget after the change; the change is a ledger entry.' })
  async changeCap(
    @Param('institutionId', uuidParam('institutionId')) institutionId: string,
    @Body() body: ChangeCapDto,
    @Req() req: AuthenticatedRequest,
  ): Promise<BudgetDto> {
    await this.ledger.changeCap(institutionId, body.epsilonCap, body.reason, actorOf(req));
    return this.ledger.getBudget(institutionId);
  }

  @Get(':institutionId/entries')
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: LedgerPageDto })
  async entries(
    @Param('institutionId', uuidParam('institutionId')) institutionId: string,
    @Query() query: EntriesQueryDto,
  ): Promise<LedgerPageDto> {
    const limit = query.limit ?? 50;
    const { entries, total } = await this.ledger.listEntries(institutionId, query.afterSeq ?? 0, limit);
    const last = entries[entries.length - 1];
    return { entries: entries.map(toEntryDto), total, nextAfterSeq: entries.length === limit && last ? last.seq : null };
  }
}

@ApiTags('ledger')
@Controller('ledger')
export class LedgerController {
  constructor(
    private readonly ledger: LedgerService,
    private readonly verification: LedgerVerificationService,
  ) {}

  @Get('public-key')
  @Public()
  @ApiOkResponse({ type: PublicKeyDto, description: 'The key that signs every ledger entry and report; anyone may verify with it.' })
  publicKey(): PublicKeyDto {
    const key = this.ledger.publicKey;
    return { algorithm: 'Ed25519', publicKey: key.publicKeyBase64, fingerprint: key.fingerprint };
  }

  @Get('groups/:digest')
  @ApiBearerAuth()
  @Roles('admin', 'compliance')
  @ApiOkResponse({
    type: LedgerGroupDto,
    description: 'The entries signed together under one group digest, so that its signature can be checked independently.',
  })
  async group(@Param('digest') digest: string): Promise<LedgerGroupDto> {
    if (!/^[0-9a-f]{64}$/.test(digest)) {
      throw new InvalidInputException([{ field: 'path.digest', message: 'must be 64 lowercase hex digits' }]);
    }
    const group = await this.ledger.group(digest);
    if (!group) throw new ProblemException(HttpStatus.NOT_FOUND, 'Ledger group not found', `no entry carries group digest ${digest}`);
    return {
      groupDigest: digest,
      signature: group.members[0].signature,
      entries: group.members.map((m) => ({ institutionId: m.institutionId, seq: m.seq, hash: m.hash })),
    };
  }

  @Get('verification')
  @ApiBearerAuth()
  @Roles('admin', 'compliance')
  @ApiOkResponse({ type: LedgerVerificationDto, description: 'Re-walks every chain now (hashes, signatures, recomputed totals).' })
  verify(): Promise<LedgerVerificationDto> {
    return this.verification.verify();
  }
}
