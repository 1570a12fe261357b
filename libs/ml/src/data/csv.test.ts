import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv, readCsvFile } from './csv';

describe('CSV', () => {
  it('reads named feature columns and a label column', () => {
    const text = 'age,income,"risk"\n30,1000.5,high\n\n45,2000,low\n';
    const ds = parseCsv(text, 'loans.csv', { labelColumn: 'risk', featureColumns: ['income', 'age'] });
    expect(ds.count).toBe(2);
    expect(ds.shape).toEqual([2]);
    expect(Array.from(ds.features)).toEqual([1000.5, 30, 2000, 45]);
    // Distinct label strings, sorted: high = 0, low = 1.
    expect(ds.classNames).toEqual(['high', 'low']);
    expect(Array.from(ds.labels)).toEqual([0, 1]);
  });

  it('uses integer labels as class indices', () => {
    const ds = parseCsv('x,y\n1,2\n3,0\n', 'ints.csv', { labelColumn: 'y' });
    expect(ds.classes).toBe(3);
    expect(Array.from(ds.labels)).toEqual([2, 0]);
  });

  it('names the file, line and column of a missing value', () => {
    expect(() => parseCsv('a,b,label\n1,2,0\n3,,1\n', 'data.csv', { labelColumn: 'label' })).toThrow(
      "data.csv:3: missing value in column 'b'",
    );
  });

  it('names the file, line and column of a non-numeric cell', () => {
    expect(() => parseCsv('a,b,label\n1,2,0\n\n3,abc,1\n', 'data.csv', { labelColumn: 'label' })).toThrow(
      "data.csv:4: column 'b': 'abc' is not a finite number",
    );
  });

  it('names the file and line of a row with the wrong column count', () => {
    expect(() => parseCsv('a,b,label\n1,2,0\n1,2\n', 'data.csv', { labelColumn: 'label' })).toThrow('data.csv:3: expected 3 columns, got 2');
  });

  it('refuses a missing label column and reads from disk with the file name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'concord-csv-'));
    const path = join(dir, 'site.csv');
    writeFileSync(path, 'a,b\n1,2\n');
    expect(() => readCsvFile(path, { labelColumn: 'label' })).toThrow("site.csv:1: no label column 'label' in header (a, b)");
    expect(() => readCsvFile(join(dir, 'nope.csv'), { labelColumn: 'x' })).toThrow(/nope\.csv: cannot read .*ENOENT/);
  });
});
