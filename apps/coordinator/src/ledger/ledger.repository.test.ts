import { describe, expect, it } from 'vitest';
import { packVectors } from './ledger.repository';

describe('packVectors', () => {
  it("writes Postgres' binary float8[] layout, vectors end to end, with each one's 1-based slice", () => {
    const { packed, from, to } = packVectors([[0.5, -2], [1e-300]]);
    // Header: 1 dimension, no nulls, element type 701 (float8), 3 elements, lower bound 1.
    expect([0, 4, 8, 12, 16].map((o) => packed.readInt32BE(o))).toEqual([1, 0, 701, 3, 1]);
    // Each element: length 8, then the double big-endian (0.5 = 0x3FE0000000000000).
    expect(packed.readInt32BE(20)).toBe(8);
    expect(packed.subarray(24, 32).toString('hex')).toBe('3fe0000000000000');
    expect([packed.readDoubleBE(24), packed.readDoubleBE(36), packed.readDoubleBE(48)]).toEqual([0.5, -2, 1e-300]);
    expect(packed.length).toBe(20 + 3 * 12);
    expect({ from, to }).toEqual({ from: [1, 3], to: [2, 3] });
  });

  it('refuses a non-finite number, naming its index', () => {
    expect(() => packVectors([[1, Number.NaN]])).toThrow(/rdp\[1\]/);
    expect(() => packVectors([[Infinity]])).toThrow(/rdp\[0\]/);
  });
});
