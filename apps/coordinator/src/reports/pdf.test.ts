import { describe, expect, it } from 'vitest';
import { pdfSafe, textPdf } from './pdf';

describe('textPdf', () => {
  it('writes a PDF whose cross-reference table points at each object, deterministically', () => {
    const lines = Array.from({ length: 150 }, (_, i) => ({ text: `line ${i}: ε spent (x) \\ done` }));
    const pdf = textPdf('Report (test)', lines);
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n/.exec(text)![1]);
    expect(text.slice(startxref, startxref + 4)).toBe('xref');
    const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    entries.forEach((offset, i) => expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`));
    expect(Number(/\/Count (\d+)/.exec(text)![1])).toBeGreaterThan(1); // 150 lines do not fit one A4 page
    expect(text).toContain('(line 7: epsilon spent \\(x\\) \\\\ done) Tj');
    expect(textPdf('Report (test)', lines).equals(pdf)).toBe(true);
  });

  it('spells out Greek letters and replaces what WinAnsi cannot show', () => {
    expect(pdfSafe('ε ≥ δ · k — 漢')).toBe('epsilon >= delta * k - ?');
  });
});
