import { describe, expect, it } from 'vitest';
import type { Mechanism, StudentSettings } from '../jobs/entities/job.entity';
import { studentSettingsOf } from '../jobs/jobs.service';
import { studentTargets } from './students.service';

const soft: Mechanism = { kind: 'gaussian_soft_labels', sigma: 120, clipNorm: 1 };
const released = [
  { queryIndex: 7, answered: true, label: null, soft: [210.5, 3, -8] },
  { queryIndex: 3, answered: true, label: null, soft: [12, 150.25, 40] },
];
const position = new Map([
  [3, 0],
  [7, 1],
]);
// Settings as stored before `temperature` existed.
const stored: StudentSettings = { features: 'edges', pcaComponents: 100, hidden: [256], epochs: 40, semiSupervised: false };

describe('what a job’s student learns from', () => {
  it('soft labels: every released row, distilled at the job’s temperature (σ/4 for settings stored without one)', () => {
    const targets = studentTargets(soft, studentSettingsOf(stored, soft), released, position);
    expect(targets).toEqual({
      kind: 'soft',
      indices: Int32Array.from([1, 0]),
      noisyScores: Float32Array.from([210.5, 3, -8, 12, 150.25, 40]),
      temperature: 30,
    });
    const chosen = studentTargets(soft, studentSettingsOf({ ...stored, temperature: 12.5 }, soft), released, position);
    expect(chosen.kind === 'soft' && chosen.temperature).toBe(12.5);
  });

  it('hard labels: the answered queries only', () => {
    const gnmax: Mechanism = { kind: 'confident_gnmax', threshold: 5, sigma1: 1, sigma2: 1 };
    const hard = [
      { queryIndex: 3, answered: true, label: 2, soft: null },
      { queryIndex: 7, answered: false, label: null, soft: null },
    ];
    expect(studentTargets(gnmax, studentSettingsOf(stored, gnmax), hard, position)).toEqual({
      kind: 'hard',
      indices: Int32Array.from([0]),
      labels: Int32Array.from([2]),
    });
  });
});
