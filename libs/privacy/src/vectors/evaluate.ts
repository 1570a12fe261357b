import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { replaceNonFinite, reviveNonFinite } from './compare';
import type { Failure } from './compare';
import { handlerFor } from './handlers';
import type { Json } from './handlers';

export interface FileReport {
  readonly file: string;
  readonly handler: string;
  readonly counted: boolean;
  readonly passed: number;
  readonly total: number;
  readonly failures: { readonly caseIndex: number; readonly failures: readonly Failure[] }[];
  readonly notes: string[];
}

export interface VectorsReport {
  readonly files: FileReport[];
  readonly passed: number;
  readonly failed: number;
}

interface VectorFile {
  source?: string;
  conversion?: string;
  notes?: string;
  cases: { inputs: Json; expected: Json }[];
}

/** Evaluates one vectors file; optionally returns the file with our computed `expected`. */
export function evaluateVectorFile(path: string): { report: FileReport; emitted?: VectorFile } {
  const file = basename(path);
  const data = JSON.parse(readFileSync(path, 'utf8'), reviveNonFinite) as VectorFile;
  const handler = handlerFor(file, data.source ?? '');
  if (!handler) {
    return {
      report: {
        file,
        handler: 'none',
        counted: true,
        passed: 0,
        total: data.cases.length,
        failures: [{ caseIndex: -1, failures: [{ field: 'source', expected: 'a known schema', actual: data.source, rule: 'dispatch' }] }],
        notes: [],
      },
    };
  }
  let passed = 0;
  const failures: FileReport['failures'] = [];
  const notes: string[] = [];
  const emittedCases: VectorFile['cases'] = [];
  data.cases.forEach((cs, i) => {
    try {
      const out = handler.run(cs.inputs, cs.expected ?? {});
      if (out.checker.failures.length === 0) passed++;
      else failures.push({ caseIndex: i, failures: out.checker.failures });
      if (out.notes) notes.push(...out.notes);
      emittedCases.push({ inputs: cs.inputs, expected: out.computed });
    } catch (e) {
      failures.push({ caseIndex: i, failures: [{ field: '(exception)', expected: '', actual: (e as Error).message, rule: 'threw' }] });
      emittedCases.push({ inputs: cs.inputs, expected: { error: (e as Error).message } });
    }
  });
  const emitted: VectorFile = {
    source: `concord libs/privacy (${handler.name}); reference: ${data.source ?? 'unknown'}`,
    conversion: data.conversion,
    notes: data.notes,
    cases: emittedCases,
  };
  return { report: { file, handler: handler.name, counted: handler.counted, passed, total: data.cases.length, failures, notes }, emitted };
}

/** Evaluates every *.json file of `dir` (sorted by name); with emitDir, writes our values beside. */
export function evaluateVectorsDir(dir: string, emitDir?: string): VectorsReport {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (emitDir) mkdirSync(emitDir, { recursive: true });
  const reports: FileReport[] = [];
  let passed = 0;
  let failed = 0;
  for (const f of files) {
    const { report, emitted } = evaluateVectorFile(join(dir, f));
    reports.push(report);
    if (report.counted) {
      passed += report.passed;
      failed += report.total - report.passed;
    }
    if (emitDir && emitted) writeFileSync(join(emitDir, f), JSON.stringify(emitted, replaceNonFinite) + '\n');
  }
  return { files: reports, passed, failed };
}

const fmt = (x: unknown): string => (typeof x === 'number' ? String(x) : JSON.stringify(x));

/** One line per file, the first few failures indented, and the `N passed, M failed` line. */
export function formatReport(r: VectorsReport, maxFailures = 3): string {
  const lines: string[] = [];
  for (const f of r.files) {
    if (!f.counted) {
      const ratios = f.notes.map((n) => Number(n.split('= ')[1])).filter((x) => Number.isFinite(x));
      const lo = ratios.length ? Math.min(...ratios).toFixed(3) : 'n/a';
      const hi = ratios.length ? Math.max(...ratios).toFixed(3) : 'n/a';
      lines.push(`${f.file}: comparison only, not counted (${f.total} cases; our RDP ε / PLD ε from ${lo} to ${hi})`);
      continue;
    }
    lines.push(`${f.file}: ${f.passed}/${f.total} passed`);
    let shown = 0;
    for (const c of f.failures) {
      for (const x of c.failures) {
        if (shown++ >= maxFailures) break;
        lines.push(`  case ${c.caseIndex}: ${x.field}: expected ${fmt(x.expected)}, got ${fmt(x.actual)} [${x.rule}]`);
      }
      if (shown >= maxFailures) break;
    }
  }
  lines.push(`${r.passed} passed, ${r.failed} failed`);
  return lines.join('\n');
}
