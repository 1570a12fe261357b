import {
  type ArgumentsHost,
  applyDecorators,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeysService } from '../auth/api-keys.service';
import { Public } from '../auth/roles';
import { ProblemException } from '../common/problem';
import { parseCookies, type ReportSession, ReportSessions, SESSION_COOKIE } from './report-session';

export interface ReportRequest extends Request {
  /** Set for a browser session; absent when the caller used a Bearer API key. */
  reportSession?: ReportSession;
  reportRole?: string;
}

/** Thrown when a report route has no acceptable session or key; the filter below answers it. */
export class ReportSignInRequired extends ProblemException {
  constructor(detail = 'sign in at /reports/login, or send Authorization: Bearer <admin or compliance key>') {
    super(HttpStatus.UNAUTHORIZED, 'Unauthorized', detail);
  }
}

/**
 * Report routes accept a report session cookie or, as the JSON API does, a Bearer admin or
 * compliance key. Nothing else: anonymous callers and agents (signed requests) are refused.
 */
@Injectable()
export class ReportAccessGuard implements CanActivate {
  constructor(
    private readonly sessions: ReportSessions,
    private readonly apiKeys: ApiKeysService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ReportRequest>();
    const session = await this.sessions.check(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
    if (session) {
      req.reportSession = session;
      req.reportRole = session.role;
      return true;
    }
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (\S+)$/.exec(header) : null;
    const principal = match ? await this.apiKeys.authenticate(match[1]) : null;
    if (!principal) throw new ReportSignInRequired();
    if (principal.role !== 'admin' && principal.role !== 'compliance') {
      throw new ProblemException(HttpStatus.FORBIDDEN, 'Forbidden', `the ${String(principal.role)} role may not read reports`);
    }
    req.reportRole = principal.role;
    return true;
  }
}

/** A browser asking for a page is sent to the sign-in form; anything else gets a problem+json 401. */
@Catch(ReportSignInRequired)
export class ReportSignInFilter implements ExceptionFilter {
  catch(exception: ReportSignInRequired, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    const wantsHtml = req.method === 'GET' && !req.path.startsWith('/reports/export') && /text\/html/.test(req.headers.accept ?? '');
    if (wantsHtml) {
      res.status(HttpStatus.SEE_OTHER).setHeader('Cache-Control', 'no-store').setHeader('Location', '/reports/login').end();
      return;
    }
    res
      .status(HttpStatus.UNAUTHORIZED)
      .type('application/problem+json')
      .send(JSON.stringify({ type: 'about:blank', title: exception.title, status: HttpStatus.UNAUTHORIZED, detail: exception.detail }));
  }
}

/**
 * Marks a report route: the global guard's Bearer-only check is skipped (`@Public()`) because this
 * guard does the same check and also accepts a report session cookie.
 */
export const ReportAccess = (): MethodDecorator & ClassDecorator =>
  applyDecorators(Public(), UseGuards(ReportAccessGuard), UseFilters(ReportSignInFilter));
