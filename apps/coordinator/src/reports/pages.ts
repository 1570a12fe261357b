import type { JobDto } from '../jobs/dto/job.dto';
import type { StoredEntry } from '../ledger/ledger.repository';
import type { LedgerVerificationReport } from '../ledger/verify-ledger';
import { spentChart } from './chart';
import { esc, figure, fmtDate, fmtDelta, fmtEpsilon, layout, type PageChrome } from './html';
import { ENTRIES_PAGE_SIZE, type InstitutionFigures, type OverviewFigures, PRIVACY_UNIT_RECORD } from './reports.service';

function verificationBlock(v: LedgerVerificationReport): string {
  const state = v.verified
    ? `<span class="status-ok" data-verified="true">Intact</span> — every hash, link and signature checked, and every total recomputed from the recorded events.`
    : `<span class="status-bad" data-verified="false">NOT intact</span> — ${v.problems.length} problem(s) found; the figures below must not be relied on until this is explained.`;
  const problems = v.problems.length
    ? `<table><thead><tr><th>Institution</th><th>Entry</th><th>Problem</th><th>Detail</th></tr></thead><tbody>${v.problems
        .map(
          (p) =>
            `<tr><td>${esc(p.institutionId)}</td><td>${esc(p.seq ?? '—')}</td><td>${esc(p.problem)}</td><td>${esc(p.detail ?? '')}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<section id="verification"><h2>Ledger verification</h2><p>${state}</p><p class="note">Re-walked just now: ${v.institutions} institution(s), ${v.entries} entries.</p>${problems}</section>`;
}

function exportsBlock(base: string): string {
  return `<p class="exports">Signed exports: <a href="${base}.json">JSON</a> <a href="${base}.json.sig">JSON signature</a> <a href="${base}.csv">CSV</a> <a href="${base}.csv.sig">CSV signature</a> <a href="${base}.pdf">PDF</a> <a href="${base}.pdf.sig">PDF signature</a></p>`;
}

function dataDependentCell(f: InstitutionFigures): string {
  if (!f.dataDependent.length) return '<td>—</td>';
  return `<td>${f.dataDependent
    .map(
      (d) =>
        `${figure('epsilonDataDependentSanitized', d.epsilonSanitized, fmtEpsilon(d.epsilonSanitized))} <span class="note">(job <a href="/reports/jobs/${esc(d.jobId)}">${esc(d.jobId.slice(0, 8))}</a>)</span>`,
    )
    .join('<br>')}</td>`;
}

export function overviewPage(chrome: PageChrome, o: OverviewFigures): string {
  const rows = o.institutions
    .map((f) => {
      const b = f.budget;
      return `<tr data-institution="${esc(b.institutionId)}">
<td><a href="/reports/institutions/${esc(b.institutionId)}">${esc(b.institutionName)}</a></td>
<td class="num">${figure('epsilonCap', b.epsilonCap, fmtEpsilon(b.epsilonCap))}</td>
<td class="num">${figure('delta', b.delta, fmtDelta(b.delta))}</td>
<td class="num">${figure('epsilonSpent', b.epsilonSpent, fmtEpsilon(b.epsilonSpent))}</td>
<td class="num">${figure('epsilonRemaining', b.epsilonRemaining, fmtEpsilon(b.epsilonRemaining))}</td>
${dataDependentCell(f)}
<td>${esc(b.status)}</td>
<td class="num">${figure('entries', b.entries, String(b.entries))}</td>
</tr>`;
    })
    .join('\n');
  const body = `
<p>How much privacy each institution has spent, under which guarantee, and whether the record is intact.
ε spent is the <strong>data-independent</strong> guarantee: it holds however the teachers voted, and it is what budgets are charged.
The data-dependent figure, where a job published one, is usually smaller but is not what the budget is charged.</p>
${verificationBlock(o.verification)}
<section id="institutions"><h2>Institutions</h2>
<table class="overview"><thead><tr><th>Institution</th><th>Cap ε</th><th>δ</th><th>ε spent (guaranteed)</th><th>ε remaining</th><th>Data-dependent ε (sanitised, per job)</th><th>Status</th><th>Ledger entries</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">No institutions yet.</td></tr>'}
</tbody></table>
<p class="note">Privacy unit: ${esc(PRIVACY_UNIT_RECORD)}. The guarantee for an institution as a whole is much weaker; see each institution's page.</p>
</section>
${exportsBlock('/reports/export/overview')}`;
  return layout(chrome, body);
}

function entryRow(e: StoredEntry): string {
  const what =
    e.kind === 'charge'
      ? `${esc((e.event as { kind?: string } | null)?.kind ?? 'charge')} · job <a href="/reports/jobs/${esc(e.jobId)}">${esc((e.jobId ?? '').slice(0, 8))}</a> · batch ${esc(e.batchId)}`
      : esc(((e.details as { reason?: string } | null)?.reason ?? '') || '');
  return `<tr data-seq="${e.seq}"><td class="num">${e.seq}</td><td>${esc(fmtDate(e.createdAt))}</td><td>${esc(e.kind)}</td><td>${what}</td>
<td class="num">${figure('epsilonSpent', e.epsilonSpent, fmtEpsilon(e.epsilonSpent))}</td><td class="num">${figure('epsilonCap', e.epsilonCap, fmtEpsilon(e.epsilonCap))}</td><td><code>${esc(e.hash.slice(0, 16))}…</code></td></tr>`;
}

export function institutionPage(
  chrome: PageChrome,
  f: InstitutionFigures,
  page: { entries: StoredEntry[]; total: number; number: number },
): string {
  const b = f.budget;
  const id = esc(b.institutionId);
  const pages = Math.max(1, Math.ceil(page.total / ENTRIES_PAGE_SIZE));
  const pager = `<p class="pager">Page ${page.number} of ${pages}. ${page.number > 1 ? `<a href="/reports/institutions/${id}?page=${page.number - 1}">← earlier entries</a>` : ''}${page.number < pages ? `<a href="/reports/institutions/${id}?page=${page.number + 1}">later entries →</a>` : ''}</p>`;
  const g = f.groupPrivacy;
  const group = g
    ? `<div class="weak" id="group-privacy"><p><strong>Institution-level guarantee (group privacy over its ${g.groupSize} teachers): weak.</strong>
Changing everything this institution holds changes all ${g.groupSize} of its teachers, so the guarantee for the institution as a whole is only
(ε, δ) = (${figure('groupEpsilon', g.epsilon, fmtEpsilon(g.epsilon))}, ${figure('groupDelta', Number.isFinite(g.delta) ? g.delta : null, fmtDelta(g.delta))})
by group privacy: (kε, k·e<sup>(k−1)ε</sup>·δ) with k = ${g.groupSize}.
${g.meaningful ? 'This is a far weaker promise than the per-record one.' : '<strong>With δ ≥ 1 this promises nothing at all</strong>: nothing here protects the institution as a whole (for example its aggregate statistics).'}</p></div>`
    : `<div class="weak" id="group-privacy"><p><strong>Institution-level guarantee: not computed.</strong> The institution has not declared its number of teachers in any job; whatever it is, the guarantee for the institution as a whole is much weaker than the per-record one.</p></div>`;
  const jobsRows = f.jobs
    .map((j) => {
      const p = j.participants.find((x) => x.institutionId === b.institutionId);
      return `<tr><td><a href="/reports/jobs/${esc(j.id)}">${esc(j.id.slice(0, 8))}</a></td><td>${esc((j.mechanism as { kind?: string }).kind ?? '')}</td><td>${esc(j.status)}</td>
<td class="num">${j.batched}</td><td class="num">${j.answered}</td><td class="num">${figure('epsilonCharged', p?.epsilonCharged ?? 0, fmtEpsilon(p?.epsilonCharged ?? 0))}</td><td class="num">${esc(p?.teachers ?? '—')}</td><td>${esc(fmtDate(j.createdAt))}</td></tr>`;
    })
    .join('\n');
  const body = `
<dl class="facts" id="budget" data-institution="${id}">
<dt>Status</dt><dd>${esc(b.status)}</dd>
<dt>Cap</dt><dd>ε = ${figure('epsilonCap', b.epsilonCap, fmtEpsilon(b.epsilonCap))} at δ = ${figure('delta', b.delta, fmtDelta(b.delta))}</dd>
<dt>ε spent (guaranteed, data-independent)</dt><dd>${figure('epsilonSpent', b.epsilonSpent, fmtEpsilon(b.epsilonSpent))}</dd>
<dt>ε remaining</dt><dd>${figure('epsilonRemaining', b.epsilonRemaining, fmtEpsilon(b.epsilonRemaining))}</dd>
<dt>Accounting</dt><dd>${esc(b.accountant)} accountant over ${b.orders} orders, ${esc(b.conversion)} conversion to (ε, δ)${b.optimalOrder !== null ? `, best order ${b.optimalOrder}` : ''}</dd>
<dt>Ledger entries</dt><dd>${figure('entries', b.entries, String(b.entries))}</dd>
</dl>
<section id="privacy-unit"><h2>What is protected</h2>
<p><strong>Per record (the guarantee the cap enforces):</strong> the privacy unit is ${esc(PRIVACY_UNIT_RECORD)}.
Anyone who sees every label released to date learns at most what (ε, δ) = (${fmtEpsilon(b.epsilonSpent)}, ${fmtDelta(b.delta)}) allows about any one record.</p>
${group}
</section>
<section id="chart-section"><h2>ε spent over time</h2>
${spentChart(
  f.entries.map((e) => ({ seq: e.seq, at: new Date(e.createdAt), epsilonSpent: e.epsilonSpent, epsilonCap: e.epsilonCap })),
  `ε spent by ${b.institutionName}, one point per ledger entry, with the cap`,
)}
<p class="note">One point per ledger entry (${f.entries.length}); the dashed line is the cap in force.</p>
</section>
<section id="entries"><h2>Ledger entries</h2>
<table class="entries"><thead><tr><th>#</th><th>When</th><th>Kind</th><th>What</th><th>ε spent after</th><th>Cap</th><th>Hash</th></tr></thead>
<tbody>${page.entries.map(entryRow).join('\n') || '<tr><td colspan="7">No entries on this page.</td></tr>'}</tbody></table>
${pager}
</section>
<section id="jobs"><h2>Jobs taken part in</h2>
<table><thead><tr><th>Job</th><th>Mechanism</th><th>Status</th><th>Queries asked</th><th>Answered</th><th>ε charged here</th><th>Teachers</th><th>Created</th></tr></thead>
<tbody>${jobsRows || '<tr><td colspan="8">None yet.</td></tr>'}</tbody></table>
</section>
${exportsBlock(`/reports/export/institutions/${id}/report`)}`;
  return layout(chrome, body);
}

function facts(value: unknown): string {
  if (value === null || value === undefined) return '<p>—</p>';
  if (typeof value !== 'object') return `<p>${esc(JSON.stringify(value))}</p>`;
  const rows = Object.entries(value as Record<string, unknown>)
    .map(
      ([k, v]) =>
        `<dt>${esc(k)}</dt><dd>${typeof v === 'object' && v !== null ? `<code>${esc(JSON.stringify(v))}</code>` : esc(v as string | number | boolean | null | undefined)}</dd>`,
    )
    .join('');
  return `<dl class="facts">${rows}</dl>`;
}

export function jobPage(chrome: PageChrome, j: JobDto, metrics: unknown, studentStatus: string): string {
  const participants = j.participants
    .map(
      (p) =>
        `<tr data-institution="${esc(p.institutionId)}"><td><a href="/reports/institutions/${esc(p.institutionId)}">${esc(p.institutionName)}</a></td><td>${esc(p.status)}</td><td class="num">${esc(p.teachers ?? '—')}</td><td class="num">${p.charges}</td><td class="num">${figure('epsilonCharged', p.epsilonCharged, fmtEpsilon(p.epsilonCharged))}</td></tr>`,
    )
    .join('\n');
  const body = `
<dl class="facts" id="job" data-job="${esc(j.id)}">
<dt>Status</dt><dd>${esc(j.status)}${j.failure ? ` — ${esc(j.failure)}` : ''}</dd>
<dt>Created / started / finished</dt><dd>${esc(fmtDate(j.createdAt))} / ${esc(fmtDate(j.startedAt))} / ${esc(fmtDate(j.finishedAt))}</dd>
<dt>Queries</dt><dd>${figure('queries', j.queries, String(j.queries))} planned, ${figure('batched', j.batched, String(j.batched))} asked, ${figure('released', j.released, String(j.released))} released, ${figure('answered', j.answered, String(j.answered))} answered with a label</dd>
<dt>Batches</dt><dd>${j.batchSize} queries each, ${j.batchDeadlineMs} ms to answer, at least ${j.minTeachers} teachers</dd>
<dt>Worst-case ε of the whole job</dt><dd>${figure('worstCaseEpsilon', j.worstCaseEpsilon, fmtEpsilon(j.worstCaseEpsilon))} at δ = ${fmtDelta(j.delta)} (data-independent, if every query were asked and answered)</dd>
<dt>Data-dependent ε (sanitised)</dt><dd>${j.epsilonDataDependentSanitized !== null ? figure('epsilonDataDependentSanitized', j.epsilonDataDependentSanitized, fmtEpsilon(j.epsilonDataDependentSanitized)) : esc(j.dataDependentNote ?? 'not published')}</dd>
</dl>
<section><h2>Mechanism and parameters</h2>${facts(j.mechanism)}</section>
<section><h2>ε charged to each participant</h2>
<table><thead><tr><th>Institution</th><th>Budget status</th><th>Teachers</th><th>Charges</th><th>ε of this job’s charges</th></tr></thead><tbody>${participants}</tbody></table>
<p class="note">ε of this job's charges alone, at each institution's δ; the institution's running total is on its page.</p></section>
<section><h2>Student</h2><p>Student status: ${esc(studentStatus)}</p>${facts(metrics)}</section>`;
  return layout(chrome, body);
}

export function loginPage(loginToken: string, error?: string): string {
  const body = `
<p>Sign in with an <strong>admin</strong> or <strong>compliance</strong> API key. The key is sent once; the browser then holds an
HttpOnly session cookie that expires after 8 hours.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form class="login" method="post" action="/reports/login">
<input type="hidden" name="csrf" value="${esc(loginToken)}">
<label for="apiKey">API key</label>
<input type="password" id="apiKey" name="apiKey" autocomplete="off" required>
<button type="submit">Sign in</button>
</form>`;
  return layout({ title: 'Sign in' }, body);
}
