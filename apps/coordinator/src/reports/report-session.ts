import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import type { ApiRole } from '../auth/entities/api-key.entity';
import { LedgerService } from '../ledger/ledger.service';

export const SESSION_COOKIE = 'concord_report_session';
export const LOGIN_CSRF_COOKIE = 'concord_report_login';
/** A report session lasts at most this long; signing in again is cheap, a stolen cookie's life is short. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
const REPORT_ROLES: readonly ApiRole[] = ['admin', 'compliance'];

export interface ReportSession {
  keyId: string;
  role: ApiRole;
  expiresAt: number;
  /** The raw cookie value: the CSRF token for the logout form is derived from it. */
  token: string;
}

interface SessionPayload {
  v: 1;
  /** API key id the session was opened with; re-checked (active, role) on every request. */
  k: string;
  /** Expiry, seconds since the epoch. */
  e: number;
  /** Random, so that two sessions for one key are different tokens. */
  n: string;
}

function b64url(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** Parses a Cookie header into name → value (first occurrence wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Report sessions are HMAC-SHA256-signed, expiring cookies (`<payload>.<mac>`), keyed by a secret
 * derived from the ledger key (`LedgerKey.deriveSecret`), so no session table and no second key
 * file. The cookie names only the API key it was opened with; every request re-reads that key, so
 * revoking the key ends its sessions at once. Sign-out clears the cookie in the browser; a copy
 * stolen before sign-out stays valid until its expiry (at most SESSION_TTL_SECONDS) unless the key
 * is revoked — the price of keeping no server-side session state.
 */
@Injectable()
export class ReportSessions {
  private readonly secret: Buffer;

  constructor(
    ledger: LedgerService,
    private readonly apiKeys: ApiKeysRepository,
  ) {
    this.secret = ledger.publicKey.deriveSecret('report-session-v1');
  }

  private mac(purpose: string, text: string): string {
    return b64url(createHmac('sha256', this.secret).update(`${purpose}\n${text}`, 'utf8').digest());
  }

  issue(keyId: string, now = Date.now()): string {
    const payload: SessionPayload = { v: 1, k: keyId, e: Math.floor(now / 1000) + SESSION_TTL_SECONDS, n: b64url(randomBytes(16)) };
    const body = b64url(Buffer.from(JSON.stringify(payload), 'utf8'));
    return `${body}.${this.mac('session', body)}`;
  }

  /** The session a cookie value stands for, or null (malformed, forged, expired, key revoked, role not allowed). */
  async check(token: string | undefined, now = Date.now()): Promise<ReportSession | null> {
    if (!token || token.length > 512) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    if (!sameText(token.slice(dot + 1), this.mac('session', body))) return null;
    let payload: SessionPayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SessionPayload;
    } catch {
      return null;
    }
    if (payload.v !== 1 || typeof payload.k !== 'string' || typeof payload.e !== 'number') return null;
    if (payload.e * 1000 <= now) return null;
    if (!/^[0-9a-f-]{36}$/.test(payload.k)) return null;
    const row = await this.apiKeys.findActive(payload.k);
    if (!row || !REPORT_ROLES.includes(row.role)) return null;
    return { keyId: row.id, role: row.role, expiresAt: payload.e, token };
  }

  /** The logout form's CSRF token: bound to this session's cookie, so it cannot be replayed for another. */
  csrfFor(session: ReportSession): string {
    return this.mac('csrf', session.token);
  }

  checkCsrf(session: ReportSession, given: unknown): boolean {
    return typeof given === 'string' && sameText(given, this.csrfFor(session));
  }

  /** A fresh token for the login form, also set as a cookie (double submit), against login CSRF. */
  newLoginToken(): string {
    return b64url(randomBytes(24));
  }
}

/** Whether the request reached us over https (directly, or through a proxy that says so). */
export function isHttps(req: Request): boolean {
  return req.secure || req.headers['x-forwarded-proto'] === 'https';
}

export function setCookie(res: Response, req: Request, name: string, value: string, maxAgeSeconds: number, path: string): void {
  const attributes = [`${name}=${value}`, `Path=${path}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict'];
  if (isHttps(req)) attributes.push('Secure');
  res.append('Set-Cookie', attributes.join('; '));
}
