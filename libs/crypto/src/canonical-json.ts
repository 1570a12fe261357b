/**
 * Deterministic JSON for hashing and signing.
 *
 * Output rules (the subset of RFC 8785, JSON Canonicalization Scheme, that plain data needs; for
 * every value accepted here the output equals JCS, so an auditor can re-implement it with any JCS
 * library):
 * - object keys sorted by UTF-16 code units (JavaScript's default string order), recursively;
 * - no whitespace anywhere;
 * - strings as `JSON.stringify` writes them (ES2019 well-formed: lone surrogates as `\udXXX`);
 * - numbers as JavaScript's shortest round-trip form (`String(x)`, e.g. `1e-7`, `0.1`, `1e+21`);
 *   `-0` is written `0`;
 * - `null`, `true`, `false`.
 *
 * Refused, with a `CanonicalJsonError` naming the JSON path: `NaN`, `±Infinity`, `undefined`
 * (also as an object property, where `JSON.stringify` would silently drop it), functions,
 * symbols, bigints, sparse arrays, cycles, and any object that is not a plain object or array
 * (Date, Map, Uint8Array, class instances, objects with symbol keys). Encode those explicitly
 * (ISO strings, base64) before hashing so the hashed bytes say exactly what was meant.
 * Error messages name the path and the kind of value, never the value itself.
 */

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';

  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

function isDenseFiniteNumberArray(value: readonly unknown[]): boolean {
  for (let i = 0; i < value.length; i++) {
    const item = value[i];
    if (typeof item !== 'number' || !Number.isFinite(item) || !(i in value)) return false;
  }
  return true;
}

/** Canonical text of frozen dense number arrays already written (immutable, so the text holds). */
const frozenNumberArrays = new WeakMap<readonly unknown[], string>();

function write(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new CanonicalJsonError(path, `${String(value)} is not allowed`);
      }
      // JSON.stringify(-0) === '0', as JCS requires.
      return JSON.stringify(value);
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      throw new CanonicalJsonError(path, `${typeof value} is not allowed`);
    case 'object':
      break;
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) {
    throw new CanonicalJsonError(path, 'cycle');
  }
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      // Fast path for dense arrays of finite numbers (RDP vectors): JSON.stringify formats each
      // exactly as the general path does, without building an error path per element. A frozen
      // array cannot change, so its text is kept and reused (the ledger hashes the same frozen
      // RDP vector into every charge of a job).
      const frozen = Object.isFrozen(value);
      if (frozen) {
        const known = frozenNumberArrays.get(value);
        if (known !== undefined) return known;
      }
      if (isDenseFiniteNumberArray(value)) {
        const text = JSON.stringify(value);
        if (frozen) frozenNumberArrays.set(value, text);
        return text;
      }
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        if (!Object.prototype.hasOwnProperty.call(value, i)) {
          throw new CanonicalJsonError(`${path}[${i}]`, 'sparse array hole is not allowed');
        }
        items.push(write(value[i], `${path}[${i}]`, ancestors));
      }
      return `[${items.join(',')}]`;
    }
    if (!isPlainObject(value)) {
      const kind = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new CanonicalJsonError(path, `${typeof kind === 'string' ? kind : 'non-plain object'} is not a plain object`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new CanonicalJsonError(path, 'symbol keys are not allowed');
    }
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      members.push(`${JSON.stringify(key)}:${write(value[key], childPath(path, key), ancestors)}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** The canonical JSON text of `value` (see the module comment for the rules). */
export function canonicalJson(value: unknown): string {
  return write(value, '$', new Set());
}

/** UTF-8 bytes of `canonicalJson(value)`: what gets hashed or signed. */
export function canonicalJsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
