import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { partition } from './data/partition';
import { loadModel } from './io';
import { type ParallelTrainingEvent, trainTeachersInParallel } from './parallel';
import { quadrants } from './testing/toy-data';
import { evaluateAccuracy } from './train';

describe('trainTeachersInParallel (worker threads, from TypeScript sources through tsx)', () => {
  it('trains 3 teachers on 3 disjoint partitions in 2 workers, streams progress and saves each teacher', async () => {
    const data = quadrants(240, 21);
    const holdout = quadrants(80, 22);
    const parts = partition(data, 3, 5);
    const outputDir = mkdtempSync(join(tmpdir(), 'concord-teachers-'));
    const events: ParallelTrainingEvent[] = [];
    const result = await trainTeachersInParallel({
      dataset: data,
      partitions: parts.parts,
      spec: { kind: 'mlp', inputSize: 2, hidden: [16], classes: 4 },
      training: { epochs: 30, batchSize: 16, learningRate: 0.01, seed: 1 },
      workers: 2,
      backend: 'wasm',
      outputDir,
      evaluation: holdout,
      onEvent: (e) => events.push(e),
    });
    expect(result.workers).toBe(2);
    expect(result.teachers.map((t) => t.teacher)).toEqual([0, 1, 2]);
    expect(result.teachers.map((t) => t.examples)).toEqual([80, 80, 80]);
    expect(result.teachers.every((t) => t.backend.name === 'wasm')).toBe(true);
    // Each teacher's data is separable: each reaches 100% on the holdout.
    expect(result.teachers.map((t) => t.accuracy)).toEqual([1, 1, 1]);
    expect(events.filter((e) => e.kind === 'worker-ready')).toHaveLength(2);
    // One progress event per epoch per teacher.
    expect(events.filter((e) => e.kind === 'progress')).toHaveLength(90);
    expect(events.filter((e) => e.kind === 'teacher-done')).toHaveLength(3);
    expect(result.samplesPerSecond).toBeGreaterThan(0);

    await selectBackend('wasm');
    const teacher1 = await loadModel(join(outputDir, 'teacher-1'));
    expect(evaluateAccuracy(teacher1, holdout)).toBe(1);
  });

  it('fails with the worker’s error, naming the teacher', async () => {
    const data = quadrants(8, 1);
    await expect(
      trainTeachersInParallel({
        dataset: data,
        partitions: partition(data, 2, 1).parts,
        spec: { kind: 'cnn', inputShape: [1, 2, 1], filters: [2], dense: 2, classes: 4 },
        training: { epochs: 1, batchSize: 4 },
        workers: 1,
        backend: 'wasm',
      }),
    ).rejects.toThrow(/worker 0 \(teacher 0\): a CNN cannot train on the wasm backend/);
  });
});
