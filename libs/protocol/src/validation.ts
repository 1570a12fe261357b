import { base64ToBytes, CryptoInputError } from '@concord/crypto';

/** One invalid field of a message, named by its path in the message (`signingPublicKey`, …). */
export interface FieldError {
  field: string;
  message: string;
}

/** The result of validating an untrusted message: the typed value, or every field that is wrong. */
export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** JSON as it travels: what `JSON.parse` can return. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Collects field errors while a validator walks an untrusted object. */
export class FieldErrors {
  readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  get count(): number {
    return this.errors.length;
  }

  failure(): { ok: false; errors: FieldError[] } {
    return { ok: false, errors: [...this.errors] };
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses properties the message does not define (a typo must not be silently dropped). */
export function checkKnownFields(record: Record<string, unknown>, known: readonly string[], errors: FieldErrors): void {
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) errors.add(key, 'is not a field of this message');
  }
}

/** A canonical base64 string of exactly `length` bytes; returns it, or undefined after recording why not. */
export function checkBase64Bytes(value: unknown, field: string, length: number, errors: FieldErrors): string | undefined {
  if (typeof value !== 'string') {
    errors.add(field, `must be a base64 string of ${length} bytes`);
    return undefined;
  }
  try {
    base64ToBytes(value, field, length);
    return value;
  } catch (error) {
    if (!(error instanceof CryptoInputError)) throw error;
    errors.add(field, `must be canonical, padded base64 of exactly ${length} bytes (${error.detail})`);
    return undefined;
  }
}

/** An optional, trimmed-non-blank string of at most `max` characters. */
export function checkOptionalText(value: unknown, field: string, max: number, errors: FieldErrors): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 1 || value.length > max || !/\S/.test(value)) {
    errors.add(field, `must be a non-blank string of 1 to ${max} characters`);
    return undefined;
  }
  return value;
}

/** An optional integer in [min, max]. */
export function checkOptionalInteger(value: unknown, field: string, min: number, max: number, errors: FieldErrors): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    errors.add(field, `must be an integer from ${min} to ${max}`);
    return undefined;
  }
  return value;
}
