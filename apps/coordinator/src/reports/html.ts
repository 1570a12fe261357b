/** Escapes text for HTML element content and double-quoted attribute values. */
export function esc(value: string | number | boolean | null | undefined): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A privacy figure as the pages and the JSON API agree on it: the float64 value, rounded only for display. */
export function fmtEpsilon(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  return value.toFixed(4);
}

export function fmtDelta(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (!Number.isFinite(value)) return '∞';
  return value.toExponential(2);
}

export function fmtDate(value: Date | string | null | undefined): string {
  if (value === null || value === undefined) return '—';
  const date = value instanceof Date ? value : new Date(value);
  return date
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

/**
 * A figure in a table cell or definition: shown rounded, with the exact float64 value in
 * `data-value` so that anyone (and the browser test) can compare it with the JSON API's.
 */
export function figure(name: string, value: number | null, shown: string): string {
  return `<span class="figure" data-figure="${esc(name)}" data-value="${value === null ? '' : esc(String(value))}">${esc(shown)}</span>`;
}

export interface PageChrome {
  title: string;
  /** The logout form's CSRF token; absent for a Bearer-key (non-browser) caller. */
  csrfToken?: string;
  role?: string;
}

export function layout(chrome: PageChrome, body: string): string {
  const logout = chrome.csrfToken
    ? `<form method="post" action="/reports/logout" class="logout"><input type="hidden" name="csrf" value="${esc(chrome.csrfToken)}"><button type="submit">Sign out</button></form>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(chrome.title)} — Concord privacy report</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/reports/assets/report.css">
</head>
<body>
<header class="top"><nav><a href="/reports">Concord privacy reports</a>${chrome.role ? ` <span class="role">signed in as ${esc(chrome.role)}</span>` : ''}</nav>${logout}</header>
<main>
<h1>${esc(chrome.title)}</h1>
${body}
</main>
<footer><p>Figures are read from the coordinator's privacy ledger through the same service methods as the JSON API. Every ledger entry is hash-chained and signed with the coordinator's Ed25519 ledger key.</p></footer>
</body>
</html>
`;
}

export const REPORT_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #57606a; --line: #d0d7de; --warn: #9a3412; --ok: #166534; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
header.top { display: flex; justify-content: space-between; align-items: center; padding: .5rem 1.5rem; border-bottom: 1px solid var(--line); background: #f6f8fa; }
header.top a { font-weight: 600; color: var(--ink); text-decoration: none; }
header.top .role { color: var(--muted); margin-left: 1rem; font-size: .9rem; }
main, footer { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 2rem; }
footer { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.status-ok { color: var(--ok); font-weight: 600; }
.status-bad { color: var(--bad); font-weight: 600; }
.weak { border-left: 4px solid var(--warn); padding: .5rem 1rem; background: #fff7ed; }
.note { color: var(--muted); font-size: .9rem; }
.exports a { margin-right: 1rem; }
.pager a { margin-right: 1rem; }
svg.chart { width: 100%; max-width: 60rem; height: auto; border: 1px solid var(--line); }
form.login { max-width: 28rem; display: grid; gap: .5rem; }
form.login input[type=password] { font: inherit; padding: .4rem; }
button { font: inherit; padding: .3rem .8rem; }
.error { color: var(--bad); }
@media print {
  header.top form.logout, .exports, .pager, nav .role { display: none; }
  header.top { background: none; border: 0; padding: 0; }
  body { font-size: 11pt; }
  main, footer { max-width: none; padding: 0; }
  a { color: inherit; text-decoration: none; }
  table, svg.chart { page-break-inside: avoid; }
  h2 { page-break-after: avoid; }
}
`;
