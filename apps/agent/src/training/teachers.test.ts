import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildMlp, saveModel, selectBackend } from '@concord/ml';
import { openTeacherEnsemble, teacherSourceFromFlags } from './teachers';

describe('teacher providers', () => {
  it('loads every subdirectory with a model.json from --teachers-dir and answers per teacher, per example', async () => {
    await selectBackend('cpu');
    const dir = mkdtempSync(join(tmpdir(), 'concord-teachers-'));
    for (let t = 0; t < 3; t++)
      await saveModel(buildMlp({ kind: 'mlp', inputSize: 2, hidden: [4], classes: 3 }, t + 1), join(dir, `teacher-${t}`));
    writeFileSync(join(dir, 'README.txt'), 'not a teacher');
    const ensemble = await openTeacherEnsemble({ kind: 'dir', path: dir });
    expect(ensemble.knownCount).toBe(3);
    const out = (await ensemble.predict([
      [0.5, -1],
      [2, 3],
    ])) as number[][][];
    expect(out).toHaveLength(3);
    for (const perTeacher of out) {
      expect(perTeacher).toHaveLength(2);
      for (const p of perTeacher) {
        expect(p).toHaveLength(3);
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      }
    }
  });

  it('posts {features} to a site-local predictor and reads {probabilities}', async () => {
    let received: unknown;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received = JSON.parse(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ probabilities: [[[1, 0]], [[0, 1]]] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/predict`;
      const ensemble = await openTeacherEnsemble(teacherSourceFromFlags({ predictorUrl: url })!);
      expect(await ensemble.predict([[1, 2]])).toEqual([[[1, 0]], [[0, 1]]]);
      expect(received).toEqual({ features: [[1, 2]] });
    } finally {
      server.close();
    }
  });

  it('accepts only one teacher source', () => {
    expect(() => teacherSourceFromFlags({ teachersDir: 'a', teachersModule: 'b' })).toThrow(/only one/);
    expect(() => teacherSourceFromFlags({ predictorUrl: 'ftp://x' })).toThrow(/http/);
    expect(teacherSourceFromFlags({})).toBeNull();
  });
});
