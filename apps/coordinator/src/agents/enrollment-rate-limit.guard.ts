import { type CanActivate, type ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemException } from '../common/problem';
import type { AgentRequest } from './agent-authenticator';

/** Refused enrollment attempts allowed per client address and window; successful ones are not counted. */
export const ENROLLMENT_FAILURES_PER_WINDOW = 60;
export const ENROLLMENT_WINDOW_MS = 60 * 1000;
/** An enrollment request is well under 1 KiB; anything much larger is not one. */
export const MAX_ENROLLMENT_BODY_BYTES = 8 * 1024;
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Guards the one public write route: bodies larger than an enrollment can be are refused (413), and
 * once a client address has had ENROLLMENT_FAILURES_PER_WINDOW refusals in a minute, its further
 * attempts are refused (429 with Retry-After) until the minute is over, so the route cannot be used
 * to search for tokens (256 bits anyway) or to load the database. Successful enrollments are not
 * counted: each one costs a token an admin issued, and a site enrolling many agents from behind
 * one address must not be locked out. Counts are per replica, in memory: a dampener, not an
 * accounting. Behind a reverse proxy, configure Express's `trust proxy` or every agent shares the
 * proxy's address.
 */
@Injectable()
export class EnrollmentRateLimitGuard implements CanActivate {
  private readonly windows = new Map<string, { start: number; failures: number }>();

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & AgentRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const now = Date.now();
    const address = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    let window = this.windows.get(address);
    if (!window || now - window.start >= ENROLLMENT_WINDOW_MS) {
      if (this.windows.size >= MAX_TRACKED_ADDRESSES) this.forgetExpired(now);
      window = { start: now, failures: 0 };
      this.windows.set(address, window);
    }
    if (window.failures >= ENROLLMENT_FAILURES_PER_WINDOW) {
      const retryAfter = Math.max(1, Math.ceil((window.start + ENROLLMENT_WINDOW_MS - now) / 1000));
      res.setHeader('retry-after', String(retryAfter));
      throw new ProblemException(
        HttpStatus.TOO_MANY_REQUESTS,
        'Too many enrollment attempts',
        `${ENROLLMENT_FAILURES_PER_WINDOW} refused enrollments from this address in the last minute; retry in ${retryAfter} s`,
      );
    }
    const counted = window;
    res.once('finish', () => {
      if (res.statusCode >= 400) counted.failures++;
    });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_ENROLLMENT_BODY_BYTES || (req.rawBody?.length ?? 0) > MAX_ENROLLMENT_BODY_BYTES) {
      throw new ProblemException(
        HttpStatus.PAYLOAD_TOO_LARGE,
        'Payload too large',
        `an enrollment body is at most ${MAX_ENROLLMENT_BODY_BYTES} bytes`,
      );
    }
    return true;
  }

  private forgetExpired(now: number): void {
    for (const [address, window] of this.windows) {
      if (now - window.start >= ENROLLMENT_WINDOW_MS) this.windows.delete(address);
    }
    // Still full: an address flood. Forget the oldest half rather than grow without bound.
    if (this.windows.size >= MAX_TRACKED_ADDRESSES) {
      let drop = this.windows.size / 2;
      for (const address of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(address);
      }
    }
  }
}
