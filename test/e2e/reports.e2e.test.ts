import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_TTL_SECONDS, ReportSessions } from '../../apps/coordinator/src/reports/report-session';
import { api, startReportsFixture, type ReportsFixture } from '../browser/fixture';
import { assertBuilt, COORDINATOR_MAIN } from '../support/process';

const REPORT_VERIFY_CLI = COORDINATOR_MAIN.replace(/main\.js$/, 'cli/report-verify.js');

interface Fetched {
  status: number;
  headers: Headers;
  text: string;
  body: ArrayBuffer;
  cookies: string[];
}

describe('compliance reports: sign-in, sessions, CSRF, roles and signed exports', () => {
  let f: ReportsFixture;
  let base: string;
  let dir: string;

  async function get(
    path: string,
    init: { cookie?: string; bearer?: string; html?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Fetched> {
    const res = await fetch(`${base}${path}`, {
      redirect: 'manual',
      headers: {
        ...(init.cookie ? { cookie: init.cookie } : {}),
        ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}),
        ...(init.html ? { accept: 'text/html' } : {}),
        ...init.headers,
      },
    });
    const body = await res.arrayBuffer();
    return {
      status: res.status,
      headers: res.headers,
      text: Buffer.from(body).toString('utf8'),
      body,
      cookies: res.headers.getSetCookie(),
    };
  }

  async function postForm(
    path: string,
    form: Record<string, string>,
    cookie?: string,
    headers: Record<string, string> = {},
  ): Promise<Fetched> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...headers },
      body: new URLSearchParams(form).toString(),
    });
    const body = await res.arrayBuffer();
    return {
      status: res.status,
      headers: res.headers,
      text: Buffer.from(body).toString('utf8'),
      body,
      cookies: res.headers.getSetCookie(),
    };
  }

  function cookiePair(setCookies: string[], name: string): string {
    const line = setCookies.find((c) => c.startsWith(`${name}=`));
    if (!line) throw new Error(`no ${name} cookie in ${JSON.stringify(setCookies)}`);
    return line.split(';')[0];
  }

  /** Signs in through the form as a browser would; returns the session cookie pair and the logout CSRF token. */
  async function signIn(key: string): Promise<{ cookie: string; csrf: string }> {
    const form = await get('/reports/login', { html: true });
    const loginCookie = cookiePair(form.cookies, 'concord_report_login');
    const token = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
    const res = await postForm('/reports/login', { apiKey: key, csrf: token }, loginCookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/reports');
    const cookie = cookiePair(res.cookies, 'concord_report_session');
    const overview = await get('/reports', { cookie, html: true });
    expect(overview.status).toBe(200);
    return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(overview.text)![1] };
  }

  /** Runs the built report:verify asynchronously (a synchronous spawn would block the in-process coordinator that --url asks). */
  function verifyCli(file: string, sig: string, ...extra: string[]): Promise<{ status: number | null; json: any }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [REPORT_VERIFY_CLI, file, sig, ...extra],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
        (err, stdout) => {
          const lines = stdout.trim().split('\n');
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ status: typeof code === 'number' ? code : null, json: JSON.parse(lines[lines.length - 1]) });
        },
      );
    });
  }

  beforeAll(async () => {
    assertBuilt();
    f = await startReportsFixture();
    base = f.running.baseUrl;
    dir = mkdtempSync(join(tmpdir(), 'concord-reports-'));
  });

  afterAll(async () => {
    await f?.close();
  });

  it('sends an anonymous browser to the sign-in form, and answers anything else with a problem+json 401', async () => {
    const page = await get('/reports', { html: true });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/reports/login');
    for (const path of [
      '/reports',
      `/reports/institutions/${f.institutions[0]}`,
      `/reports/jobs/${f.jobId}`,
      '/reports/export/overview.json',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });

  it('refuses an agent’s signed request to the report pages and exports', async () => {
    for (const path of ['/reports', '/reports/export/overview.json', `/reports/institutions/${f.institutions[0]}`]) {
      const res = await f.agents[0].request('GET', path);
      expect(res.status, path).toBe(401);
    }
  });

  it('signs in a compliance officer with an HttpOnly, SameSite=Strict cookie (Secure only over https)', async () => {
    const form = await get('/reports/login', { html: true });
    expect(form.status).toBe(200);
    expect(form.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const loginCookie = cookiePair(form.cookies, 'concord_report_login');
    const token = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
    const res = await postForm('/reports/login', { apiKey: f.compliance, csrf: token }, loginCookie);
    expect(res.status).toBe(303);
    const session = res.cookies.find((c) => c.startsWith('concord_report_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(new RegExp(`; Max-Age=${SESSION_TTL_SECONDS}`));
    expect(session).not.toMatch(/Secure/);
    // Behind a TLS-terminating proxy the cookie is marked Secure.
    const form2 = await get('/reports/login', { html: true });
    const https = await postForm(
      '/reports/login',
      { apiKey: f.compliance, csrf: /name="csrf" value="([^"]+)"/.exec(form2.text)![1] },
      cookiePair(form2.cookies, 'concord_report_login'),
      { 'x-forwarded-proto': 'https' },
    );
    expect(https.cookies.find((c) => c.startsWith('concord_report_session='))).toMatch(/; Secure/);
    // An admin may sign in too.
    expect((await signIn(f.admin)).cookie).toMatch(/^concord_report_session=/);
  });

  it('refuses a wrong key, and a sign-in form that did not come from this site (login CSRF)', async () => {
    const form = await get('/reports/login', { html: true });
    const loginCookie = cookiePair(form.cookies, 'concord_report_login');
    const token = /name="csrf" value="([^"]+)"/.exec(form.text)![1];
    const wrong = await postForm('/reports/login', { apiKey: `${f.compliance.slice(0, -4)}AAAA`, csrf: token }, loginCookie);
    expect(wrong.status).toBe(401);
    expect(wrong.cookies.some((c) => c.startsWith('concord_report_session='))).toBe(false);
    const noToken = await postForm('/reports/login', { apiKey: f.compliance });
    expect(noToken.status).toBe(403);
    expect(noToken.cookies.some((c) => c.startsWith('concord_report_session='))).toBe(false);
  });

  it('refuses a forged, tampered, expired or revoked-key session', async () => {
    const { cookie } = await signIn(f.compliance);
    const value = cookie.slice('concord_report_session='.length);
    const [payload, mac] = value.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), e: 9_999_999_999 }),
    ).toString('base64url');
    for (const bad of [`${forgedPayload}.${mac}`, `${payload}.${mac.slice(0, -2)}AA`, 'garbage', `${payload}.`]) {
      expect((await get('/reports', { cookie: `concord_report_session=${bad}` })).status).toBe(401);
    }
    const sessions = f.running.app.get(ReportSessions);
    expect(await sessions.check(value)).not.toBeNull();
    expect(await sessions.check(value, Date.now() + (SESSION_TTL_SECONDS + 1) * 1000)).toBeNull();

    // Revoking the API key ends every session opened with it.
    const revocable = await signIn(f.compliance);
    const sql = new Client({ connectionString: f.db.url });
    await sql.connect();
    try {
      const id = f.compliance.slice(3, 35).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
      await sql.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [id]);
      expect((await get('/reports', { cookie: revocable.cookie })).status).toBe(401);
      await sql.query('UPDATE api_keys SET revoked_at = NULL WHERE id = $1', [id]);
    } finally {
      await sql.end();
    }
  });

  it('signs out only by POST with the session’s CSRF token; no GET changes state', async () => {
    const { cookie, csrf } = await signIn(f.compliance);
    expect((await get('/reports/logout', { cookie })).status).toBe(404);
    expect((await postForm('/reports/logout', {}, cookie)).status).toBe(403);
    expect((await postForm('/reports/logout', { csrf: 'x'.repeat(43) }, cookie)).status).toBe(403);
    const other = await signIn(f.compliance);
    expect((await postForm('/reports/logout', { csrf: other.csrf }, cookie)).status).toBe(403);
    expect((await get('/reports', { cookie })).status).toBe(200);
    const out = await postForm('/reports/logout', { csrf }, cookie);
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/reports/login');
    expect(out.cookies.find((c) => c.startsWith('concord_report_session='))).toMatch(/^concord_report_session=; .*Max-Age=0/);
  });

  it('keeps Bearer keys working for the JSON API and the reports alike', async () => {
    expect((await api(f.running, f.compliance, 'GET', '/budgets')).status).toBe(200);
    expect((await get('/reports', { bearer: f.compliance })).status).toBe(200);
    expect((await get('/reports/export/overview.json', { bearer: f.admin })).status).toBe(200);
    // A report session is not an API credential: the JSON API still wants a Bearer key.
    const { cookie } = await signIn(f.compliance);
    expect((await get('/budgets', { cookie })).status).toBe(401);
  });

  it('renders the overview, institution and job pages with the JSON API’s figures', async () => {
    const { cookie } = await signIn(f.compliance);
    const budgets = (await api(f.running, f.compliance, 'GET', '/budgets')).json as any[];
    const overview = await get('/reports', { cookie });
    expect(overview.headers.get('content-type')).toMatch(/text\/html/);
    for (const b of budgets) {
      expect(overview.text).toContain(b.institutionName);
      expect(overview.text).toContain(`data-figure="epsilonSpent" data-value="${b.epsilonSpent}"`);
    }
    expect(overview.text).toContain('data-verified="true"');
    const inst = await get(`/reports/institutions/${f.institutions[0]}`, { cookie });
    expect(inst.status).toBe(200);
    expect(inst.text.match(/<circle class="spent-point"/g)).toHaveLength(
      budgets.find((b) => b.institutionId === f.institutions[0]).entries,
    );
    expect(inst.text).toMatch(/group privacy over its 10 teachers/);
    const job = await get(`/reports/jobs/${f.jobId}`, { cookie });
    expect(job.status).toBe(200);
    expect(job.text).toContain('confident_gnmax');
    expect((await get(`/reports/institutions/${f.institutions[0]}?page=0`, { cookie })).status).toBe(400);
    expect((await get('/reports/institutions/not-a-uuid', { cookie })).status).toBe(400);
  });

  it('exports the overview and an institution as JSON, CSV and PDF with a detached Ed25519 signature that report:verify checks', async () => {
    const key = (await api(f.running, undefined, 'GET', '/ledger/public-key')).json.publicKey as string;
    const targets = [
      '/reports/export/overview.json',
      '/reports/export/overview.csv',
      `/reports/export/institutions/${f.institutions[1]}/report.json`,
      `/reports/export/institutions/${f.institutions[1]}/report.csv`,
      '/reports/export/overview.pdf',
      `/reports/export/institutions/${f.institutions[1]}/report.pdf`,
    ];
    for (const [i, path] of targets.entries()) {
      const doc = await get(path, { bearer: f.compliance });
      expect(doc.status, path).toBe(200);
      const sig = await get(`${path}.sig`, { bearer: f.compliance });
      expect(sig.status).toBe(200);
      expect(sig.text.trim()).toBe(doc.headers.get('x-concord-signature'));
      const ext = path.slice(path.lastIndexOf('.') + 1);
      const bytes = Buffer.from(doc.body);
      const file = join(dir, `export-${i}.${ext}`);
      const sigFile = join(dir, `export-${i}.${ext}.sig`);
      writeFileSync(file, bytes);
      if (ext === 'pdf') expect(bytes.subarray(0, 8).toString('latin1')).toBe('%PDF-1.4');
      writeFileSync(sigFile, sig.text);
      const good = await verifyCli(file, sigFile, '--public-key', key);
      expect(good.status, JSON.stringify(good.json)).toBe(0);
      expect(good.json.verified).toBe(true);
      expect((await verifyCli(file, sigFile, '--url', base)).status).toBe(0);

      // One changed figure breaks the signature.
      const tampered = join(dir, `tampered-${i}.${ext}`);
      const original = readFileSync(file, 'latin1');
      const changed = original.replace(/(\d)\.(\d)/, (_m, a: string, b: string) => `${a}.${b === '9' ? '0' : String(Number(b) + 1)}`);
      expect(changed).not.toBe(original);
      writeFileSync(tampered, Buffer.from(changed, 'latin1'));
      const bad = await verifyCli(tampered, sigFile, '--public-key', key);
      expect(bad.status).toBe(1);
      expect(bad.json.verified).toBe(false);
    }
    // Another key does not verify it either.
    const otherKey = Buffer.alloc(32, 7).toString('base64');
    expect((await verifyCli(join(dir, 'export-0.json'), join(dir, 'export-0.json.sig'), '--public-key', otherKey)).status).toBe(1);
    expect((await verifyCli(join(dir, 'export-0.json'), join(dir, 'missing.sig'), '--public-key', key)).status).toBe(2);
  });

  it('states mechanism, privacy unit, ε, δ, accountant, conversion and period in the JSON export, equal to the JSON API', async () => {
    const doc = JSON.parse((await get('/reports/export/overview.json', { bearer: f.compliance })).text);
    expect(doc.schema).toBe('concord.privacy-report/v1');
    expect(doc.accountant).toMatchObject({ name: 'rdp' });
    expect(doc.conversion.name).toBe('analytic_gaussian');
    expect(doc.conversion.reference).toMatch(/Balle, Wang 2018/);
    expect(doc.ledgerVerification.verified).toBe(true);
    const budgets = (await api(f.running, f.compliance, 'GET', '/budgets')).json as any[];
    for (const b of budgets) {
      const row = doc.institutions.find((r: any) => r.institutionId === b.institutionId);
      expect(row).toMatchObject({
        epsilon: b.epsilonSpent,
        delta: b.delta,
        epsilonCap: b.epsilonCap,
        epsilonRemaining: b.epsilonRemaining,
        privacyUnit: 'record',
        mechanisms: ['confident_gnmax'],
        conversion: b.conversion,
        optimalOrder: b.optimalOrder,
        ledgerEntries: b.entries,
      });
      expect(row.period.from <= row.period.to).toBe(true);
      expect(row.groupPrivacy.teachers).toBe(10);
      expect(row.groupPrivacy.epsilon).toBeCloseTo(10 * b.epsilonSpent, 9);
    }
  });
});
