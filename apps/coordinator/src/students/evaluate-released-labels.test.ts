import { describe, expect, it } from 'vitest';
import { evaluateReleasedLabels } from './students.service';

describe('evaluateReleasedLabels', () => {
  const holdout = [
    { idx: 0, label: 0 },
    { idx: 1, label: 1 },
    { idx: 2, label: 2 },
    { idx: 3, label: 1 },
  ];

  it('scores answered evaluation queries only, hard or soft, and the student on the same examples', () => {
    const result = evaluateReleasedLabels(
      [
        { queryIndex: 10, answered: true, label: 0, soft: null },
        { queryIndex: 11, answered: true, label: 2, soft: null },
        { queryIndex: 12, answered: false, label: null, soft: null },
        { queryIndex: 13, answered: true, label: null, soft: [0.1, 2.5, -1] },
      ],
      10,
      4,
      holdout,
      Int32Array.from([0, 1, 0, 0]),
    );
    // Labels: right on 0 and 3 (soft argmax 1), wrong on 1; query 12 unanswered.
    expect(result).toMatchObject({ queries: 4, answered: 3, labelAccuracy: 2 / 3, studentAccuracy: 2 / 3 });
    expect(result.studentToEnsembleAccuracy).toBeCloseTo(1, 12);
  });

  it('reports nothing it cannot measure', () => {
    const none = evaluateReleasedLabels([], 10, 0, holdout, new Int32Array(4));
    expect(none).toMatchObject({ queries: 0, answered: 0, labelAccuracy: null, studentAccuracy: null, studentToEnsembleAccuracy: null });
    expect(none.note).toMatch(/evaluationQueries/);
  });
});
