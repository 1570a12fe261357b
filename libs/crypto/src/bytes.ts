/**
 * Byte checks and encodings used wherever bytes enter this library.
 *
 * In the manner of noble-ciphers' `abytes(value, length, title)`: every public function checks its
 * byte arguments where they enter, and a wrong type or length fails with a `CryptoInputError` whose
 * message names the argument. Messages describe the shape of the value (type, length) and never
 * its content, so a secret key passed in the wrong place is not echoed into a log.
 *
 * The decoders are strict: base64 must be canonical (padded, no whitespace, zero trailing bits),
 * base64url must be canonical and unpadded, hex must have an even number of digits. Node's
 * `Buffer.from(text, 'base64')` silently skips invalid characters and truncates; nothing here uses
 * it to decode untrusted text without re-checking.
 */

/** A byte argument of the wrong type, length or encoding. `argument` names it. */
export class CryptoInputError extends Error {
  override readonly name = 'CryptoInputError';

  constructor(
    readonly argument: string,
    readonly detail: string,
  ) {
    super(`${argument}: ${detail}`);
  }
}

export function isBytes(value: unknown): value is Uint8Array {
  // Buffer is a Uint8Array subclass and passes; a Uint8Array from another realm (vm, worker
  // transfer) fails `instanceof` but has the right tag.
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]');
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

/**
 * Checks that `value` is a Uint8Array and, if `length` is given, that it has exactly that length
 * (or one of the listed lengths). Returns the value, typed, so it can be used inline.
 */
export function abytes(value: unknown, length: number | readonly number[] | undefined, name: string): Uint8Array {
  if (!isBytes(value)) {
    throw new CryptoInputError(name, `expected Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined) {
    const allowed = typeof length === 'number' ? [length] : length;
    if (!allowed.includes(value.length)) {
      throw new CryptoInputError(name, `expected ${allowed.join(' or ')} bytes, got ${value.length}`);
    }
  }
  return value;
}

/** Checks that `value` is a string. */
export function astring(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new CryptoInputError(name, `expected string, got ${describe(value)}`);
  }
}

function checkDecodedLength(bytes: Uint8Array, length: number | undefined, name: string): Uint8Array {
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoInputError(name, `expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

function toUint8Array(buffer: Buffer): Uint8Array {
  // A plain Uint8Array (not a Buffer view into Node's shared pool) so callers can keep, wipe or
  // transfer it without touching unrelated memory.
  return new Uint8Array(buffer);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function bytesToBase64(bytes: Uint8Array): string {
  abytes(bytes, undefined, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes canonical, padded base64 (RFC 4648 §4). Rejects whitespace, missing padding, characters
 * outside the alphabet and non-zero trailing bits, so each byte string has exactly one accepted
 * encoding. `length`, if given, is the required decoded length.
 */
export function base64ToBytes(text: unknown, name: string, length?: number): Uint8Array {
  astring(text, name);
  if (!BASE64.test(text)) {
    throw new CryptoInputError(name, 'malformed base64');
  }
  const buffer = Buffer.from(text, 'base64');
  if (buffer.toString('base64') !== text) {
    throw new CryptoInputError(name, 'non-canonical base64');
  }
  return checkDecodedLength(toUint8Array(buffer), length, name);
}

export function bytesToBase64url(bytes: Uint8Array): string {
  abytes(bytes, undefined, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes canonical, unpadded base64url (RFC 4648 §5). Same strictness as `base64ToBytes`. */
export function base64urlToBytes(text: unknown, name: string, length?: number): Uint8Array {
  astring(text, name);
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new CryptoInputError(name, 'malformed base64url');
  }
  const buffer = Buffer.from(text, 'base64url');
  if (buffer.toString('base64url') !== text) {
    throw new CryptoInputError(name, 'non-canonical base64url');
  }
  return checkDecodedLength(toUint8Array(buffer), length, name);
}

/** Lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  abytes(bytes, undefined, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Decodes hex (either case, even number of digits, nothing else). */
export function hexToBytes(text: unknown, name: string, length?: number): Uint8Array {
  astring(text, name);
  if (!HEX.test(text)) {
    throw new CryptoInputError(name, 'malformed hex');
  }
  return checkDecodedLength(toUint8Array(Buffer.from(text, 'hex')), length, name);
}

export function utf8ToBytes(text: string): Uint8Array {
  astring(text, 'text');
  return new TextEncoder().encode(text);
}

/** Decodes UTF-8, rejecting invalid sequences instead of substituting U+FFFD. */
export function bytesToUtf8(bytes: Uint8Array, name: string): string {
  abytes(bytes, undefined, name);
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new CryptoInputError(name, 'invalid UTF-8');
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  parts.forEach((part, i) => abytes(part, undefined, `parts[${i}]`));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Compares in time that depends only on the lengths. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  abytes(a, undefined, 'a');
  abytes(b, undefined, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
