import { esc, fmtDate, fmtEpsilon } from './html';

export interface ChartPoint {
  seq: number;
  at: Date;
  epsilonSpent: number;
  epsilonCap: number;
}

const W = 800;
const H = 320;
const PAD = { left: 64, right: 24, top: 20, bottom: 48 };

/**
 * ε spent over time as a server-side SVG (no script): one circle per ledger entry at the entry's
 * cumulative `epsilonSpent`, and the cap in force at each entry as a step line. Entries written in
 * the same instant are spread evenly so that every one stays visible.
 */
export function spentChart(points: readonly ChartPoint[], title: string): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const times = points.map((p) => p.at.getTime());
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const byTime = t1 > t0;
  const x = (i: number): number =>
    PAD.left + (points.length <= 1 ? plotW / 2 : byTime ? ((times[i] - t0) / (t1 - t0)) * plotW : (i / (points.length - 1)) * plotW);
  const yMax = Math.max(1e-9, ...points.map((p) => Math.max(p.epsilonSpent, p.epsilonCap))) * 1.05;
  const y = (v: number): number => PAD.top + plotH - (Math.max(0, v) / yMax) * plotH;

  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const grid = ticks
    .map(
      (v) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>` +
        `<text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#57606a">${esc(v.toFixed(2))}</text>`,
    )
    .join('');
  let capPath = '';
  points.forEach((p, i) => {
    const cx = x(i).toFixed(1);
    const cy = y(p.epsilonCap).toFixed(1);
    capPath += i === 0 ? `M${cx},${cy}` : `H${cx}V${cy}`;
  });
  if (points.length > 0) capPath += `H${W - PAD.right}`;
  const spentPath = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(p.epsilonSpent).toFixed(1)}`).join('');
  const circles = points
    .map(
      (p, i) =>
        `<circle class="spent-point" data-seq="${p.seq}" data-epsilon="${esc(String(p.epsilonSpent))}" cx="${x(i).toFixed(1)}" cy="${y(p.epsilonSpent).toFixed(1)}" r="3.5" fill="#1d4ed8"><title>#${p.seq} ${esc(fmtDate(p.at))}: ε spent ${esc(fmtEpsilon(p.epsilonSpent))} of ${esc(fmtEpsilon(p.epsilonCap))}</title></circle>`,
    )
    .join('');
  const axisLabels =
    points.length > 0
      ? `<text x="${PAD.left}" y="${H - 24}" font-size="12" fill="#57606a">${esc(fmtDate(new Date(t0)))}</text>` +
        `<text x="${W - PAD.right}" y="${H - 24}" font-size="12" fill="#57606a" text-anchor="end">${esc(fmtDate(new Date(t1)))}</text>`
      : '';
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title">
<title id="chart-title">${esc(title)}</title>
${grid}
<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#57606a"/>
<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#57606a"/>
<path class="cap-line" d="${capPath}" fill="none" stroke="#b91c1c" stroke-width="2" stroke-dasharray="6 4"/>
<path class="spent-line" d="${spentPath}" fill="none" stroke="#1d4ed8" stroke-width="1.5"/>
${circles}
${axisLabels}
<text x="${PAD.left}" y="${H - 6}" font-size="12" fill="#1d4ed8">● ε spent (data-independent, cumulative)</text>
<text x="${W - PAD.right}" y="${H - 6}" font-size="12" fill="#b91c1c" text-anchor="end">- - cap</text>
</svg>`;
}
