import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Dataset, DatasetError } from './dataset';

export interface CsvOptions {
  /** Header name of the label column. */
  readonly labelColumn: string;
  /** Header names of the feature columns, in model order; default every other column. */
  readonly featureColumns?: readonly string[];
  /**
   * Class names in index order. Default: if every label is a non-negative integer, the integers
   * themselves (classes = max + 1); otherwise the distinct label strings, sorted.
   */
  readonly classNames?: readonly string[];
}

/**
 * Splits one CSV line: comma-separated, fields optionally in double quotes ("" is a quote).
 * Quoted fields may not span lines.
 */
function splitLine(line: string, where: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new DatasetError(`${where}: unterminated quoted field`);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new DatasetError(`${where}: text after a closing quote`);
    } else {
      const end = line.indexOf(',', i);
      cell = end === -1 ? line.slice(i) : line.slice(i, end);
      i = end === -1 ? line.length : end;
    }
    cells.push(cell.trim());
    if (i >= line.length) return cells;
    i++; // the comma
  }
}

/**
 * Parses CSV text with a header line. `name` (the file name) and 1-based line numbers (the header
 * is line 1) appear in every error. Entirely blank lines are skipped.
 */
export function parseCsv(text: string, name: string, options: CsvOptions): Dataset {
  const lines = text.split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex === -1) throw new DatasetError(`${name}: empty file, expected a header line`);
  const header = splitLine(lines[headerIndex], `${name}:${headerIndex + 1}`);
  const columnOf = new Map<string, number>();
  header.forEach((h, i) => {
    if (columnOf.has(h)) throw new DatasetError(`${name}:${headerIndex + 1}: duplicate column '${h}'`);
    columnOf.set(h, i);
  });
  const labelIndex = columnOf.get(options.labelColumn);
  if (labelIndex === undefined) {
    throw new DatasetError(`${name}:${headerIndex + 1}: no label column '${options.labelColumn}' in header (${header.join(', ')})`);
  }
  const featureNames = options.featureColumns ?? header.filter((h) => h !== options.labelColumn);
  const featureIndices = featureNames.map((f) => {
    const index = columnOf.get(f);
    if (index === undefined) throw new DatasetError(`${name}:${headerIndex + 1}: no feature column '${f}' in header`);
    return index;
  });
  if (featureIndices.length === 0) throw new DatasetError(`${name}: no feature columns`);

  const features: number[] = [];
  const rawLabels: string[] = [];
  const labelLines: number[] = [];
  for (let l = headerIndex + 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue;
    const where = `${name}:${l + 1}`;
    const cells = splitLine(lines[l], where);
    if (cells.length !== header.length) {
      throw new DatasetError(`${where}: expected ${header.length} columns, got ${cells.length}`);
    }
    for (let f = 0; f < featureIndices.length; f++) {
      const cell = cells[featureIndices[f]];
      if (cell === '') throw new DatasetError(`${where}: missing value in column '${featureNames[f]}'`);
      const value = Number(cell);
      if (!Number.isFinite(value)) {
        throw new DatasetError(`${where}: column '${featureNames[f]}': '${cell}' is not a finite number`);
      }
      features.push(value);
    }
    const label = cells[labelIndex];
    if (label === '') throw new DatasetError(`${where}: missing value in label column '${options.labelColumn}'`);
    rawLabels.push(label);
    labelLines.push(l + 1);
  }

  let classNames: readonly string[];
  let labelOf: (raw: string, line: number) => number;
  if (options.classNames !== undefined) {
    classNames = options.classNames;
    const index = new Map(classNames.map((c, i) => [c, i]));
    labelOf = (raw, line) => {
      const i = index.get(raw);
      if (i === undefined) throw new DatasetError(`${name}:${line}: label '${raw}' is not one of the declared classes`);
      return i;
    };
  } else if (rawLabels.every((r) => /^\d+$/.test(r))) {
    const max = rawLabels.reduce((m, r) => Math.max(m, Number(r)), -1);
    classNames = Array.from({ length: max + 1 }, (_, i) => String(i));
    labelOf = (raw) => Number(raw);
  } else {
    classNames = [...new Set(rawLabels)].sort();
    const index = new Map(classNames.map((c, i) => [c, i]));
    labelOf = (raw) => index.get(raw) ?? -1;
  }
  const labels = Int32Array.from(rawLabels, (r, i) => labelOf(r, labelLines[i]));
  return {
    features: Float32Array.from(features),
    labels,
    shape: [featureIndices.length],
    count: rawLabels.length,
    classes: classNames.length,
    classNames,
  };
}

export function readCsvFile(path: string, options: CsvOptions): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DatasetError(`${basename(path)}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseCsv(text, basename(path), options);
}
