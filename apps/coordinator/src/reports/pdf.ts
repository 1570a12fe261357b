/**
 * A minimal, dependency-free PDF 1.4 writer for text reports: A4 pages of Helvetica text (the
 * standard Type 1 font every reader has, so nothing is embedded), WinAnsi-encoded. Output is
 * deterministic — no creation date, no random ids — so a PDF export can be signed like the JSON and
 * CSV ones and re-fetched byte for byte. Characters outside WinAnsi are spelled out or replaced.
 */
export interface PdfLine {
  text: string;
  size?: number;
  bold?: boolean;
}

const PAGE_W = 595.28;
const PAGE_H = 841.89;
const MARGIN = 50;
const LEADING = 1.35;

const SPELLED: Record<string, string> = {
  ε: 'epsilon',
  δ: 'delta',
  '≥': '>=',
  '≤': '<=',
  '−': '-',
  '·': '*',
  '…': '...',
  '—': '-',
  '–': '-',
  '’': "'",
  '→': '->',
};

/** To WinAnsi-safe text: Greek letters spelled out, anything else outside Latin-1 as '?'. */
export function pdfSafe(text: string): string {
  let out = '';
  for (const ch of text) {
    const spelled = SPELLED[ch];
    if (spelled !== undefined) out += spelled;
    else out += ch.charCodeAt(0) <= 0xff && ch.length === 1 ? ch : '?';
  }
  return out;
}

function pdfString(text: string): string {
  return `(${pdfSafe(text)
    .replace(/\\/g, '\\\\')
    .replace(/\(/g, '\\(')
    .replace(/\)/g, '\\)')
    .replace(/[\r\n]/g, ' ')})`;
}

/** Wraps a line to fit the page, estimating Helvetica's average glyph width as half the font size. */
function wrap(line: PdfLine): PdfLine[] {
  const size = line.size ?? 10;
  const max = Math.max(20, Math.floor((PAGE_W - 2 * MARGIN) / (size * 0.5)));
  const words = pdfSafe(line.text).split(' ');
  const out: PdfLine[] = [];
  let current = '';
  for (const word of words) {
    if (current && current.length + 1 + word.length > max) {
      out.push({ ...line, text: current });
      current = word;
    } else current = current ? `${current} ${word}` : word;
  }
  out.push({ ...line, text: current });
  return out;
}

export function textPdf(title: string, lines: readonly PdfLine[]): Buffer {
  const pages: string[] = [];
  let stream = '';
  let y = PAGE_H - MARGIN;
  for (const line of lines.flatMap(wrap)) {
    const size = line.size ?? 10;
    if (y - size * LEADING < MARGIN) {
      pages.push(stream);
      stream = '';
      y = PAGE_H - MARGIN;
    }
    y -= size * LEADING;
    stream += `BT /${line.bold ? 'F2' : 'F1'} ${size} Tf ${MARGIN} ${y.toFixed(2)} Td ${pdfString(line.text)} Tj ET\n`;
  }
  pages.push(stream);

  // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then per page: page, contents.
  const objects: string[] = [];
  const kids = pages.map((_, i) => `${6 + 2 * i} 0 R`).join(' ');
  objects.push('<< /Type /Catalog /Pages 2 0 R >>');
  objects.push(`<< /Type /Pages /Kids [${kids}] /Count ${pages.length} >>`);
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  objects.push('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>');
  objects.push(`<< /Title ${pdfString(title)} /Producer (Concord coordinator) >>`);
  pages.forEach((content, i) => {
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${7 + 2 * i} 0 R >>`,
    );
    objects.push(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`);
  });

  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((obj, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${obj}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) body += `${String(off).padStart(10, '0')} 00000 n \n`;
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 5 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
