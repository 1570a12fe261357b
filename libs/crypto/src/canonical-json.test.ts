import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonBytes, CanonicalJsonError } from './canonical-json';

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}');
  });

  it('is independent of insertion order', () => {
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('sorts keys by UTF-16 code units as RFC 8785 does', () => {
    // RFC 8785 §3.2.3 sorting example (subset): "\r" < "1" < "\u0080" < "\u00f6" < "\u20ac" < "\ud83d\ude00" < "\ufb33"
    const value = { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\ud83d\ude00': 5, '\u0080': 6, '\u00f6': 7 };
    expect(canonicalJson(value)).toBe('{"\\r":2,"1":4,"\u0080":6,"\u00f6":7,"\u20ac":1,"\ud83d\ude00":5,"\ufb33":3}');
  });

  it('writes numbers in shortest round-trip form (RFC 8785 §3.2.2.3 examples)', () => {
    expect(canonicalJson([0, -0, 1, -1, 0.1, 1e-7, 1e21, 1e20, 333333333.3333333, 5e-324, 1.7976931348623157e308])).toBe(
      '[0,0,1,-1,0.1,1e-7,1e+21,100000000000000000000,333333333.3333333,5e-324,1.7976931348623157e+308]',
    );
  });

  it('escapes strings like JSON.stringify, including lone surrogates', () => {
    expect(canonicalJson('a"b\\c\n\u0001\u2028')).toBe('"a\\"b\\\\c\\n\\u0001\u2028"');
    expect(canonicalJson('\ud800')).toBe('"\\ud800"');
  });

  it('encodes to UTF-8', () => {
    expect(canonicalJsonBytes({ é: 1 })).toEqual(Uint8Array.of(0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d));
  });

  it.each([
    ['NaN', { a: NaN }, '$.a'],
    ['Infinity', { a: [1, Infinity] }, '$.a[1]'],
    ['-Infinity', -Infinity, '$'],
    ['undefined property', { a: undefined }, '$.a'],
    ['undefined element', [undefined], '$[0]'],
    ['function', { f: () => 1 }, '$.f'],
    ['symbol', { s: Symbol('x') }, '$.s'],
    ['bigint', { n: 1n }, '$.n'],
    ['Date', { when: new Date(0) }, '$.when'],
    ['Map', new Map(), '$'],
    ['Uint8Array', { bytes: new Uint8Array(2) }, '$.bytes'],
    ['class instance', { x: new (class Point {})() }, '$.x'],
    ['sparse array', { a: [1, , 3] }, '$.a[1]'],
    ['odd key path', { 'a b': NaN }, '$["a b"]'],
  ])('rejects %s, naming the path', (_label, value, path) => {
    expect(() => canonicalJson(value)).toThrow(CanonicalJsonError);
    try {
      canonicalJson(value);
    } catch (error) {
      expect((error as CanonicalJsonError).path).toBe(path);
    }
  });

  it('rejects cycles but accepts shared (acyclic) references', () => {
    const shared = { v: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"v":1},"b":{"v":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/^\$\.self: cycle$/);
  });

  it('rejects objects with symbol keys', () => {
    expect(() => canonicalJson({ [Symbol('s')]: 1 })).toThrow(/symbol keys/);
  });

  it('accepts null-prototype objects', () => {
    const value = Object.create(null) as Record<string, unknown>;
    value.b = 2;
    value.a = 1;
    expect(canonicalJson(value)).toBe('{"a":1,"b":2}');
  });

  it('does not put rejected values into the error message', () => {
    expect(() => canonicalJson({ secret: 12345678901234567890n })).toThrow(/^\$\.secret: bigint is not allowed$/);
  });
});

describe('canonicalJson on number arrays', () => {
  it('formats a dense finite array exactly as element by element', () => {
    const values = [0, -0, 1, -1.5, 1e-7, 123456789012345680000, 5e-324, Number.MAX_VALUE, 0.1 + 0.2];
    expect(canonicalJson(values)).toBe(`[${values.map((v) => canonicalJson(v)).join(',')}]`);
    expect(canonicalJson({ rdp: values })).toBe(`{"rdp":[${values.map((v) => canonicalJson(v)).join(',')}]}`);
  });

  it('reuses the text of a frozen number array, and never of one that can change', () => {
    const frozen = Object.freeze([0.5, 1e-7]);
    expect(canonicalJson({ a: frozen, b: frozen })).toBe('{"a":[0.5,1e-7],"b":[0.5,1e-7]}');
    expect(canonicalJson(frozen)).toBe('[0.5,1e-7]');
    const open = [0.5, 1e-7];
    expect(canonicalJson(open)).toBe('[0.5,1e-7]');
    open[0] = 2;
    expect(canonicalJson(open)).toBe('[2,1e-7]');
    // A frozen array of other things is written (and checked) every time.
    expect(() => canonicalJson(Object.freeze([1, Number.NaN]))).toThrow(/\$\[1\]/);
    expect(() => canonicalJson(Object.freeze([1, Number.NaN]))).toThrow(/\$\[1\]/);
  });

  it('still refuses non-finite numbers and holes inside number arrays', () => {
    expect(() => canonicalJson([1, Infinity])).toThrow(/\$\[1\]/);
    expect(() => canonicalJson([1, , 3])).toThrow(/hole/);
  });
});
