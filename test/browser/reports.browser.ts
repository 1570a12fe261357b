import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startReportsFixture, type ReportsFixture } from './fixture';

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Every `[data-figure]` under `scope` as name → exact value (the page shows it rounded, the attribute carries the float64). */
async function figures(page: Page, scope: string): Promise<Record<string, { value: number; shown: string }[]>> {
  return page.$$eval(`${scope} [data-figure]`, (els) => {
    const out: Record<string, { value: number; shown: string }[]> = {};
    for (const el of els) {
      const name = el.getAttribute('data-figure')!;
      (out[name] ??= []).push({ value: Number(el.getAttribute('data-value')), shown: el.textContent ?? '' });
    }
    return out;
  });
}

/** The rounded figure on the page is the exact one rounded, not some other number. */
function expectShown(f: { value: number; shown: string }, exact: number, what: string): void {
  expect(f.value, what).toBe(exact);
  const shown = Number(f.shown);
  if (Number.isFinite(shown) && f.shown.trim() !== '')
    expect(Math.abs(shown - exact), `${what} shown as ${f.shown}`).toBeLessThanOrEqual(Math.max(5e-5, Math.abs(exact) * 1e-2));
}

describe('compliance report pages in Chromium', () => {
  let f: ReportsFixture;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const consoleErrors: string[] = [];
  const shots = mkdtempSync(join(tmpdir(), 'concord-report-screens-'));

  beforeAll(async () => {
    f = await startReportsFixture();
    base = f.running.baseUrl;
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'concord-chromium-profile-')), {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      headless: true,
      args: LAUNCH_ARGS,
      viewport: { width: 1366, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      // Refused sign-ins are logged as failed loads (401) by design; anything else — a CSP violation, a script error — is a bug.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 401/.test(m.text()))
        consoleErrors.push(m.text());
    });
  });

  afterAll(async () => {
    await context?.close();
    await f?.close();
  });

  it('sends an anonymous visitor to the sign-in form, and refuses an agent', async () => {
    await page.goto(`${base}/reports`);
    expect(new URL(page.url()).pathname).toBe('/reports/login');
    await expect(page.locator('input[name=apiKey]').count()).resolves.toBe(1);
    const exported = await page.request.get(`${base}/reports/export/overview.json`);
    expect(exported.status()).toBe(401);
    for (const path of ['/reports', `/reports/institutions/${f.institutions[0]}`]) {
      expect((await f.agents[0].request('GET', path)).status, path).toBe(401);
    }
  });

  it('refuses a wrong key at sign-in and signs a compliance officer in', async () => {
    await page.fill('#apiKey', `${f.compliance.slice(0, -4)}AAAA`);
    await page.click('button[type=submit]');
    await expect(page.locator('.error').textContent()).resolves.toMatch(/not accepted/);
    await page.fill('#apiKey', f.compliance);
    await page.click('button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/reports');
    const cookies = await context.cookies(`${base}/reports`);
    const session = cookies.find((c) => c.name === 'concord_report_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
  });

  it('shows on the overview exactly the figures of GET /budgets, and the ledger as intact', async () => {
    const budgets = (await api(f.running, f.compliance, 'GET', '/budgets')).json as any[];
    expect(budgets).toHaveLength(3);
    await expect(page.locator('[data-verified]').getAttribute('data-verified')).resolves.toBe('true');
    for (const b of budgets) {
      const row = `tr[data-institution="${b.institutionId}"]`;
      await expect(page.locator(`${row} a`).first().textContent()).resolves.toBe(b.institutionName);
      const got = await figures(page, row);
      for (const name of ['epsilonCap', 'delta', 'epsilonSpent', 'epsilonRemaining', 'entries']) {
        expect(got[name], `${b.institutionName} ${name}`).toHaveLength(1);
        expectShown(got[name][0], b[name], `${b.institutionName} ${name}`);
      }
      expect(b.epsilonSpent).toBeGreaterThan(0);
      const job = (await api(f.running, f.compliance, 'GET', `/jobs/${f.jobId}`)).json;
      if (job.epsilonDataDependentSanitized !== null) {
        expectShown(got.epsilonDataDependentSanitized[0], job.epsilonDataDependentSanitized, 'data-dependent ε');
      }
    }
    const screenshot = join(shots, 'overview.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
  });

  it('shows on an institution page the figures of GET /budgets/:id and /entries, and one chart point per ledger entry', async () => {
    const id = f.institutions[0];
    await page.click(`tr[data-institution="${id}"] a`);
    expect(new URL(page.url()).pathname).toBe(`/reports/institutions/${id}`);
    const budget = (await api(f.running, f.compliance, 'GET', `/budgets/${id}`)).json;
    const got = await figures(page, '#budget');
    for (const name of ['epsilonCap', 'delta', 'epsilonSpent', 'epsilonRemaining', 'entries'])
      expectShown(got[name][0], budget[name], name);

    const entries = (await api(f.running, f.compliance, 'GET', `/budgets/${id}/entries?limit=500`)).json;
    expect(entries.total).toBe(budget.entries);
    expect(entries.total).toBeGreaterThan(3);
    const points = await page.$$eval('svg.chart circle.spent-point', (els) =>
      els.map((e) => ({ seq: Number(e.getAttribute('data-seq')), epsilon: Number(e.getAttribute('data-epsilon')) })),
    );
    expect(points).toHaveLength(entries.total);
    expect(points).toEqual(entries.entries.map((e: any) => ({ seq: e.seq, epsilon: e.epsilonSpent })));

    const rows = await page.$$eval('table.entries tbody tr[data-seq]', (trs) =>
      trs.map((tr) => ({
        seq: Number(tr.getAttribute('data-seq')),
        spent: Number(tr.querySelector('[data-figure=epsilonSpent]')!.getAttribute('data-value')),
        cap: Number(tr.querySelector('[data-figure=epsilonCap]')!.getAttribute('data-value')),
      })),
    );
    expect(rows).toEqual(entries.entries.slice(0, 50).map((e: any) => ({ seq: e.seq, spent: e.epsilonSpent, cap: e.epsilonCap })));
    await expect(page.locator('#group-privacy').textContent()).resolves.toMatch(/weak/);
    const job = (await api(f.running, f.compliance, 'GET', `/jobs/${f.jobId}`)).json;
    const charged = await figures(page, '#jobs');
    expectShown(charged.epsilonCharged[0], job.participants.find((p: any) => p.institutionId === id).epsilonCharged, 'ε charged');

    const screenshot = join(shots, 'institution.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`screenshot: ${screenshot}`);
    await page.emulateMedia({ media: 'print' });
    await expect(page.locator('form.logout').isVisible()).resolves.toBe(false);
    await page.screenshot({ path: join(shots, 'institution-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
  });

  it('shows the job page with the charges of GET /jobs/:id', async () => {
    await page.goto(`${base}/reports/jobs/${f.jobId}`);
    const job = (await api(f.running, f.compliance, 'GET', `/jobs/${f.jobId}`)).json;
    const got = await figures(page, 'main');
    expectShown(got.batched[0], job.batched, 'queries asked');
    expectShown(got.answered[0], job.answered, 'queries answered');
    expect(got.epsilonCharged.map((x) => x.value).sort()).toEqual(job.participants.map((p: any) => p.epsilonCharged).sort());
    await expect(page.textContent('main')).resolves.toContain('sigma1');
  });

  it('signs out through the form, after which the pages are refused again; no console errors', async () => {
    await page.goto(`${base}/reports`);
    await page.click('form.logout button');
    expect(new URL(page.url()).pathname).toBe('/reports/login');
    await page.goto(`${base}/reports`);
    expect(new URL(page.url()).pathname).toBe('/reports/login');
    expect(consoleErrors).toEqual([]);
  });
});
