/**
 * A fake site for the agent e2e tests: a local CSV full of marker values (patient ids and feature
 * values that must never leave the site) and a teachers module that "trains" k nearest-centroid
 * teachers on disjoint slices of it and answers with each teacher's class probabilities.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SITE_TEACHERS = 5;
export const SITE_CLASSES = ['low', 'mid', 'high'];

export interface SiteData {
  dir: string;
  modulePath: string;
  /** Strings that exist only in the site's local data. */
  markers: string[];
}

export function createSite(dir: string, site: number): SiteData {
  mkdirSync(dir, { recursive: true });
  const markers: string[] = [];
  const lines = ['patient_id,x,y,label'];
  for (let i = 0; i < 60; i++) {
    const c = i % 3;
    const id = `MRN-SECRET-${site}-${String(i).padStart(4, '0')}`;
    // Long, distinctive digit tails: a value that leaks is recognisable anywhere.
    const x = `${(c * 4 + ((i * 7) % 10) / 10 - 0.45).toFixed(2)}2718${site}${String(i).padStart(4, '0')}`;
    const y = `${(((i * 3) % 10) / 10 - 0.45).toFixed(2)}3141${site}${String(i).padStart(4, '0')}`;
    markers.push(id, x, y);
    lines.push(`${id},${x},${y},${c}`);
  }
  writeFileSync(join(dir, 'data.csv'), `${lines.join('\n')}\n`);
  const modulePath = join(dir, 'teachers.js');
  writeFileSync(modulePath, TEACHERS_MODULE);
  return { dir, modulePath, markers };
}

const TEACHERS_MODULE = `'use strict';
// Site-local teachers: ${SITE_TEACHERS} nearest-centroid classifiers, each on its own slice of data.csv.
const fs = require('node:fs');
const path = require('node:path');
const K = ${SITE_TEACHERS};
const CLASSES = ${SITE_CLASSES.length};
const rows = fs.readFileSync(path.join(__dirname, 'data.csv'), 'utf8').trim().split('\\n').slice(1).map((l) => l.split(','));
const teachers = Array.from({ length: K }, (_, t) => {
  const sums = Array.from({ length: CLASSES }, () => [0, 0, 0]);
  rows.forEach((r, i) => {
    if (i % K !== t) return;
    const c = Number(r[3]);
    sums[c][0] += Number(r[1]);
    sums[c][1] += Number(r[2]);
    sums[c][2] += 1;
  });
  return { centroids: sums.map(([x, y, n]) => [x / n, y / n]), temperature: 1.5 + 0.37 * t };
});
exports.teachers = K;
exports.predict = (features) =>
  teachers.map(({ centroids, temperature }) =>
    features.map((f) => {
      const scores = centroids.map(([x, y]) => -((f[0] - x) ** 2 + (f[1] - y) ** 2) / temperature);
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / z);
    }),
  );
`;

/** Public, unlabeled examples near the three class centres, every 6th on a boundary. */
export function publicPool(count: number): number[][] {
  return Array.from({ length: count }, (_, i) => {
    const c = i % 3;
    if (i % 6 === 5) return [c * 4 + 2, 0.1];
    return [c * 4 + 0.3 * ((i % 4) - 1.5), 0.2 * ((i % 5) - 2)];
  });
}
