import { describe, expect, it } from 'vitest';
import { packVectors, unpackVector } from './ledger.repository';

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

describe('packVectors: one copy of a repeated vector', () => {
  it('sends the same array once, every row taking its slice', () => {
    const shared = Object.freeze([0.25, 0.5]);
    const { packed, from, to } = packVectors([shared, [3], shared]);
    expect(packed.readInt32BE(12)).toBe(3);
    expect({ from, to }).toEqual({ from: [1, 3, 1], to: [2, 3, 2] });
  });
});

describe('unpackVector', () => {
  it('reads what array_send writes, bit for bit', () => {
    const values = [0.1 + 0.2, -0, 5e-324, 1.7976931348623157e308];
    const { packed } = packVectors([values]);
    const back = unpackVector(packed, 'rdp');
    expect(back.map((x) => Object.is(x, -0) || x)).toEqual(values.map((x) => Object.is(x, -0) || x));
    expect(back.every((x, i) => Object.is(x, values[i]))).toBe(true);
  });

  it('reads an empty array (no dimensions)', () => {
    expect(unpackVector(Buffer.from('0000000000000000000002bd', 'hex'), 'rdp')).toEqual([]);
  });

  it('refuses anything but a one-dimensional float8[] without NULLs', () => {
    const { packed } = packVectors([[1, 2]]);
    const withType = Buffer.from(packed);
    withType.writeInt32BE(700, 8);
    expect(() => unpackVector(withType, 'rdp')).toThrow(/not float8/);
    const withNull = Buffer.from(packed);
    withNull.writeInt32BE(1, 4);
    expect(() => unpackVector(withNull, 'orders')).toThrow(/budget orders: NULL/);
    expect(() => unpackVector(packed.subarray(0, packed.length - 1), 'rdp')).toThrow(/wrong length/);
    expect(() => unpackVector(packed.subarray(0, 8), 'rdp')).toThrow(/truncated/);
  });
});
