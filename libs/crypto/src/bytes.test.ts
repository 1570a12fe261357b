import { describe, expect, it } from 'vitest';
import {
  abytes,
  base64ToBytes,
  base64urlToBytes,
  bytesToBase64,
  bytesToBase64url,
  bytesToHex,
  bytesToUtf8,
  concatBytes,
  CryptoInputError,
  equalBytes,
  hexToBytes,
} from './bytes';

describe('abytes', () => {
  it('returns a Uint8Array of an accepted length', () => {
    const value = new Uint8Array(32);
    expect(abytes(value, 32, 'publicKey')).toBe(value);
    expect(abytes(value, [16, 32], 'publicKey')).toBe(value);
    expect(abytes(Buffer.alloc(3), undefined, 'anything')).toHaveLength(3);
  });

  it('names the argument when the length is wrong', () => {
    expect(() => abytes(new Uint8Array(31), 32, 'publicKey')).toThrow(new CryptoInputError('publicKey', 'expected 32 bytes, got 31'));
    expect(() => abytes(new Uint8Array(31), 32, 'publicKey')).toThrow(/^publicKey: /);
  });

  it('names the argument and the type when it is not bytes', () => {
    for (const value of ['abc', [1, 2], null, undefined, 5, new Uint16Array(32)]) {
      expect(() => abytes(value, 32, 'secretKey')).toThrow(/^secretKey: expected Uint8Array, got /);
    }
  });

  it('does not put the value in the message', () => {
    try {
      abytes('my-secret-value', 32, 'secretKey');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CryptoInputError);
      expect((error as Error).message).not.toContain('my-secret-value');
    }
  });
});

describe('base64', () => {
  it('round-trips and matches RFC 4648 test vectors', () => {
    // RFC 4648 §10
    const vectors: [string, string][] = [
      ['', ''],
      ['f', 'Zg=='],
      ['fo', 'Zm8='],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg=='],
      ['fooba', 'Zm9vYmE='],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      const bytes = new TextEncoder().encode(plain);
      expect(bytesToBase64(bytes)).toBe(encoded);
      expect(base64ToBytes(encoded, 'x')).toEqual(bytes);
    }
  });

  it('rejects malformed input instead of skipping characters', () => {
    for (const bad of ['Zm9v!', 'Zm9v YmFy', 'Zm9vYg', 'Zm9vYg=', 'Zm9vY===', 'Zm9v\n', '====', 'Zm-_']) {
      expect(() => base64ToBytes(bad, 'field')).toThrow(/^field: malformed base64$/);
    }
  });

  it('rejects non-canonical encodings with non-zero trailing bits', () => {
    // 'Zh==' decodes to 'f' like 'Zg==' but is not what an encoder writes.
    expect(() => base64ToBytes('Zh==', 'field')).toThrow(/non-canonical/);
  });

  it('checks the decoded length and names the field', () => {
    expect(() => base64ToBytes('Zm9v', 'nonce', 24)).toThrow(/^nonce: expected 24 bytes, got 3$/);
  });

  it('rejects non-strings', () => {
    expect(() => base64ToBytes(42, 'field')).toThrow(/^field: expected string, got number$/);
  });
});

describe('base64url', () => {
  it('round-trips without padding', () => {
    const bytes = Uint8Array.of(0xfb, 0xff, 0xfe);
    expect(bytesToBase64url(bytes)).toBe('-__-');
    expect(base64urlToBytes('-__-', 'x')).toEqual(bytes);
    expect(base64urlToBytes('Zg', 'x')).toEqual(Uint8Array.of(0x66));
  });

  it('rejects padding, the standard alphabet, impossible lengths and non-canonical tails', () => {
    expect(() => base64urlToBytes('Zg==', 'h')).toThrow(/^h: malformed base64url$/);
    expect(() => base64urlToBytes('+/+/', 'h')).toThrow(/malformed/);
    expect(() => base64urlToBytes('Zm9vY', 'h')).toThrow(/malformed/);
    expect(() => base64urlToBytes('Zh', 'h')).toThrow(/non-canonical/);
  });
});

describe('hex', () => {
  it('round-trips in lower case and accepts upper case', () => {
    expect(bytesToHex(Uint8Array.of(0, 0xab, 0xff))).toBe('00abff');
    expect(hexToBytes('00ABff', 'x')).toEqual(Uint8Array.of(0, 0xab, 0xff));
  });

  it('rejects odd lengths and non-hex characters instead of truncating', () => {
    // Buffer.from('abc', 'hex') would silently return one byte.
    expect(() => hexToBytes('abc', 'hash')).toThrow(/^hash: malformed hex$/);
    expect(() => hexToBytes('zz', 'hash')).toThrow(/malformed hex/);
    expect(() => hexToBytes('ab cd', 'hash')).toThrow(/malformed hex/);
    expect(() => hexToBytes('abcd', 'hash', 3)).toThrow(/^hash: expected 3 bytes, got 2$/);
  });
});

describe('helpers', () => {
  it('concatenates', () => {
    expect(concatBytes(Uint8Array.of(1), Uint8Array.of(), Uint8Array.of(2, 3))).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('compares bytes', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
  });

  it('rejects invalid UTF-8 instead of substituting', () => {
    expect(bytesToUtf8(Uint8Array.of(0x68, 0x69), 'text')).toBe('hi');
    expect(() => bytesToUtf8(Uint8Array.of(0xff), 'payload')).toThrow(/^payload: invalid UTF-8$/);
  });
});
