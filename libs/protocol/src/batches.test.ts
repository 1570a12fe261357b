import { describe, expect, it } from 'vitest';
import { validateBatchAnswer, type AnswerExpectations } from './batches';

const expected: AnswerExpectations = { jobId: 'j', batchId: 'b', attempt: 1, kind: 'votes', queries: 2, classes: 3, teachers: null };
const good = {
  protocolVersion: 1,
  jobId: 'j',
  batchId: 'b',
  attempt: 1,
  kind: 'votes',
  teachers: 5,
  rows: [
    [5, 0, 0],
    [1, 2, 2],
  ],
};

function fieldsOf(result: ReturnType<typeof validateBatchAnswer>): string[] {
  return result.ok ? [] : result.errors.map((e) => e.field);
}

describe('validateBatchAnswer', () => {
  it('accepts a well-formed vote answer', () => {
    expect(validateBatchAnswer(good, expected)).toEqual({ ok: true, value: good });
  });

  it('names every wrong field', () => {
    expect(fieldsOf(validateBatchAnswer({ ...good, batchId: 'other', extra: 1 }, expected))).toEqual(['extra', 'payload.batchId']);
    expect(fieldsOf(validateBatchAnswer({ ...good, rows: [[5, 0, 0]] }, expected))).toEqual(['payload.rows']);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...good,
            rows: [
              [5, 0],
              [1, 2, 2],
            ],
          },
          expected,
        ),
      ),
    ).toEqual(['payload.rows[0]']);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...good,
            rows: [
              [4, 0, 0],
              [1, 2, 2],
            ],
          },
          expected,
        ),
      ),
    ).toEqual(['payload.rows[0]']);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...good,
            rows: [
              [5, 0, 0],
              [1.5, 1.5, 2],
            ],
          },
          expected,
        ),
      ),
    ).toEqual(['payload.rows[1]']);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...good,
            rows: [
              [6, -1, 0],
              [1, 2, 2],
            ],
          },
          expected,
        ),
      ),
    ).toEqual(['payload.rows[0]']);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...good,
            rows: [
              [NaN, 5, 0],
              [1, 2, 2],
            ],
          },
          expected,
        ),
      ),
    ).toEqual(['payload.rows[0]']);
    expect(fieldsOf(validateBatchAnswer({ ...good, teachers: 0 }, expected))).toContain('payload.teachers');
    expect(fieldsOf(validateBatchAnswer(good, { ...expected, teachers: 7 }))).toContain('payload.teachers');
    expect(fieldsOf(validateBatchAnswer('nope', expected))).toEqual(['payload']);
  });

  it('bounds probability sums by teachers × clipNorm', () => {
    const soft: AnswerExpectations = { ...expected, kind: 'probabilities', clipNorm: 1 };
    const ok = {
      ...good,
      kind: 'probabilities',
      teachers: 2,
      rows: [
        [1.2, 0.8, 0],
        [0.5, 0.5, 1],
      ],
    };
    expect(validateBatchAnswer(ok, soft).ok).toBe(true);
    expect(
      fieldsOf(
        validateBatchAnswer(
          {
            ...ok,
            rows: [
              [2, 1, 0],
              [0.5, 0.5, 1],
            ],
          },
          soft,
        ),
      ),
    ).toEqual(['payload.rows[0]']);
  });
});
