import { Controller, Get, Header, HttpCode, HttpStatus, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { ApiKeysService } from '../auth/api-keys.service';
import { Public } from '../auth/roles';
import { ProblemException, uuidParam } from '../common/problem';
import { institutionCsv, overviewCsv } from './export-csv';
import { reportPdf } from './export-pdf';
import { type PageChrome, REPORT_CSS } from './html';
import { institutionPage, jobPage, loginPage, overviewPage } from './pages';
import { ReportAccess, type ReportRequest } from './report-access.guard';
import { LOGIN_CSRF_COOKIE, parseCookies, ReportSessions, SESSION_COOKIE, SESSION_TTL_SECONDS, setCookie } from './report-session';
import { type ReportDocument, ReportsService } from './reports.service';

const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

function page(res: Response, html: string, status = HttpStatus.OK): void {
  res.status(status).set(PAGE_HEADERS).send(html);
}

type ExportFormat = 'json' | 'csv' | 'pdf';

const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  pdf: 'application/pdf',
};

function parsePage(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new ProblemException(HttpStatus.BAD_REQUEST, 'Invalid input', 'query.page: must be a positive integer');
  }
  return n;
}

@ApiExcludeController()
@Controller('reports')
export class ReportsController {
  constructor(
    private readonly reports: ReportsService,
    private readonly sessions: ReportSessions,
    private readonly apiKeys: ApiKeysService,
  ) {}

  private chrome(req: ReportRequest, title: string): PageChrome {
    return {
      title,
      role: req.reportRole,
      csrfToken: req.reportSession ? this.sessions.csrfFor(req.reportSession) : undefined,
    };
  }

  // --- sign-in ---------------------------------------------------------------------------------

  @Get('assets/report.css')
  @Public()
  @Header('Content-Type', 'text/css; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  css(): string {
    return REPORT_CSS;
  }

  @Get('login')
  @Public()
  loginForm(@Req() req: Request, @Res() res: Response): void {
    const token = this.sessions.newLoginToken();
    setCookie(res, req, LOGIN_CSRF_COOKIE, token, 600, '/reports/login');
    page(res, loginPage(token));
  }

  @Post('login')
  @Public()
  async login(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const expected = parseCookies(req.headers.cookie).get(LOGIN_CSRF_COOKIE);
    const retry = (status: number, message: string): void => {
      const token = this.sessions.newLoginToken();
      setCookie(res, req, LOGIN_CSRF_COOKIE, token, 600, '/reports/login');
      page(res, loginPage(token, message), status);
    };
    if (!expected || typeof body.csrf !== 'string' || body.csrf !== expected) {
      retry(HttpStatus.FORBIDDEN, 'The sign-in form expired or did not come from this site. Please try again.');
      return;
    }
    const principal = typeof body.apiKey === 'string' ? await this.apiKeys.authenticate(body.apiKey.trim()) : null;
    if (!principal || (principal.role !== 'admin' && principal.role !== 'compliance')) {
      retry(HttpStatus.UNAUTHORIZED, 'That key was not accepted. Use an active admin or compliance API key.');
      return;
    }
    setCookie(res, req, LOGIN_CSRF_COOKIE, '', 0, '/reports/login');
    setCookie(res, req, SESSION_COOKIE, this.sessions.issue(principal.id), SESSION_TTL_SECONDS, '/reports');
    res.status(HttpStatus.SEE_OTHER).set('Cache-Control', 'no-store').location('/reports').end();
  }

  @Post('logout')
  @ReportAccess()
  logout(@Req() req: ReportRequest, @Res() res: Response): void {
    const session = req.reportSession;
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!session || !this.sessions.checkCsrf(session, body.csrf)) {
      throw new ProblemException(HttpStatus.FORBIDDEN, 'Forbidden', 'sign-out needs the CSRF token of the form it came from');
    }
    setCookie(res, req, SESSION_COOKIE, '', 0, '/reports');
    res.status(HttpStatus.SEE_OTHER).set('Cache-Control', 'no-store').location('/reports/login').end();
  }

  // --- pages -----------------------------------------------------------------------------------

  @Get()
  @ReportAccess()
  async overview(@Req() req: ReportRequest, @Res() res: Response): Promise<void> {
    page(res, overviewPage(this.chrome(req, 'Privacy budgets'), await this.reports.overview()));
  }

  @Get('institutions/:institutionId')
  @ReportAccess()
  async institution(
    @Param('institutionId', uuidParam('institutionId')) institutionId: string,
    @Query('page') pageParam: string | undefined,
    @Req() req: ReportRequest,
    @Res() res: Response,
  ): Promise<void> {
    const number = parsePage(pageParam);
    const [figures, entries] = await Promise.all([
      this.reports.institution(institutionId),
      this.reports.entriesPage(institutionId, number),
    ]);
    page(res, institutionPage(this.chrome(req, figures.budget.institutionName), figures, { ...entries, number }));
  }

  @Get('jobs/:jobId')
  @ReportAccess()
  async job(@Param('jobId', uuidParam('jobId')) jobId: string, @Req() req: ReportRequest, @Res() res: Response): Promise<void> {
    const { job, metrics, studentStatus } = await this.reports.job(jobId);
    page(res, jobPage(this.chrome(req, `Job ${job.id.slice(0, 8)}`), job, metrics, studentStatus));
  }

  // --- signed exports --------------------------------------------------------------------------

  private render(doc: ReportDocument, format: ExportFormat): Buffer {
    switch (format) {
      case 'json':
        return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
      case 'csv':
        return Buffer.from(doc.report === 'overview' ? overviewCsv(doc) : institutionCsv(doc), 'utf8');
      case 'pdf':
        return reportPdf(doc);
    }
  }

  private send(res: Response, doc: ReportDocument, format: ExportFormat, signatureOnly: boolean, name: string): void {
    const bytes = this.render(doc, format);
    const signature = this.reports.sign(bytes);
    res.set({
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Concord-Signature': signature,
      'X-Concord-Signature-Key': this.reports.ledgerKey.fingerprint,
    });
    if (signatureOnly) {
      res
        .status(HttpStatus.OK)
        .type('text/plain; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="${name}.${format}.sig"`);
      res.send(`${signature}\n`);
      return;
    }
    res.status(HttpStatus.OK).type(CONTENT_TYPES[format]).set('Content-Disposition', `attachment; filename="${name}.${format}"`);
    res.send(bytes);
  }

  @Get('export/overview.:format')
  @ReportAccess()
  @HttpCode(200)
  async exportOverview(@Param('format') format: string, @Res() res: Response): Promise<void> {
    const [ext, sig] = parseFormat(format);
    this.send(res, await this.reports.overviewDocument(), ext, sig, 'concord-overview');
  }

  @Get('export/institutions/:institutionId/report.:format')
  @ReportAccess()
  async exportInstitution(
    @Param('institutionId', uuidParam('institutionId')) institutionId: string,
    @Param('format') format: string,
    @Res() res: Response,
  ): Promise<void> {
    const [ext, sig] = parseFormat(format);
    this.send(res, await this.reports.institutionDocument(institutionId), ext, sig, `concord-institution-${institutionId}`);
  }
}

/** `json`, `csv`, `json.sig` or `csv.sig`. */
function parseFormat(format: string): [ExportFormat, boolean] {
  const match = /^(json|csv|pdf)(\.sig)?$/.exec(format);
  if (!match) throw new ProblemException(HttpStatus.NOT_FOUND, 'Not found', 'exports are .json, .csv and .pdf, and their .sig');
  return [match[1] as ExportFormat, match[2] !== undefined];
}
