import { DP_EVENT_KINDS, DP_EVENT_SCHEMA_VERSION, freezeDpEvent } from './dp-event';
import type { DpEvent, DpEventKind } from './dp-event';
import { DpEventError } from './errors';

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(o: Json, key: string, path: string, check: (v: number) => boolean, what: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new DpEventError(`${path}.${key}`, `must be a finite number, got ${JSON.stringify(v)}`);
  if (!check(v)) throw new DpEventError(`${path}.${key}`, `must be ${what}, got ${v}`);
  return v;
}

const positive = (v: number): boolean => v > 0;
const nonNegative = (v: number): boolean => v >= 0;
const count = (v: number): boolean => Number.isInteger(v) && v >= 0;

function numberArray(
  o: Json,
  key: string,
  path: string,
  length: number,
  check: (v: number) => boolean,
  what: string,
): number[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new DpEventError(`${path}.${key}`, 'must be an array of numbers');
  if (v.length !== length) throw new DpEventError(`${path}.${key}`, `must have one entry per query (${length}), got ${v.length}`);
  return v.map((x: unknown, i: number) => {
    const n = x === '-Infinity' ? -Infinity : x;
    if (typeof n !== 'number' || Number.isNaN(n) || !check(n))
      throw new DpEventError(`${path}.${key}[${i}]`, `must be ${what}, got ${JSON.stringify(x)}`);
    return n;
  });
}

function noExtraFields(o: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new DpEventError(`${path}.${k}`, 'unknown field');
}

function parseEvent(x: unknown, path: string, depth: number): DpEvent {
  if (depth > 64) throw new DpEventError(path, 'events nested too deeply');
  if (!isObject(x)) throw new DpEventError(path, 'must be an object');
  const kind = x.kind;
  if (typeof kind !== 'string' || !(DP_EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new DpEventError(`${path}.kind`, `unknown event kind ${JSON.stringify(kind)}`);
  }
  switch (kind as DpEventKind) {
    case 'gaussian':
      noExtraFields(x, ['kind', 'noiseMultiplier'], path);
      return { kind: 'gaussian', noiseMultiplier: num(x, 'noiseMultiplier', path, nonNegative, 'non-negative') };
    case 'poisson_sampled':
      noExtraFields(x, ['kind', 'samplingProbability', 'event'], path);
      return {
        kind: 'poisson_sampled',
        samplingProbability: num(x, 'samplingProbability', path, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
        event: parseEvent(x.event, `${path}.event`, depth + 1),
      };
    case 'self_composed':
      noExtraFields(x, ['kind', 'event', 'count'], path);
      return {
        kind: 'self_composed',
        event: parseEvent(x.event, `${path}.event`, depth + 1),
        count: num(x, 'count', path, count, 'a non-negative integer'),
      };
    case 'composed': {
      noExtraFields(x, ['kind', 'events'], path);
      if (!Array.isArray(x.events)) throw new DpEventError(`${path}.events`, 'must be an array of events');
      const events: unknown[] = x.events;
      return { kind: 'composed', events: events.map((e, i) => parseEvent(e, `${path}.events[${i}]`, depth + 1)) };
    }
    case 'gnmax': {
      noExtraFields(x, ['kind', 'sigma', 'queries', 'logq'], path);
      const sigma = num(x, 'sigma', path, positive, 'positive');
      const queries = num(x, 'queries', path, count, 'a non-negative integer');
      const logq = numberArray(x, 'logq', path, queries, (v) => v <= 0, 'a log-probability (<= 0)');
      return logq ? { kind: 'gnmax', sigma, queries, logq } : { kind: 'gnmax', sigma, queries };
    }
    case 'gnmax_threshold': {
      noExtraFields(x, ['kind', 'threshold', 'sigma', 'queries', 'logPrAnswered'], path);
      const threshold = num(x, 'threshold', path, () => true, 'a number');
      const sigma = num(x, 'sigma', path, positive, 'positive');
      const queries = num(x, 'queries', path, count, 'a non-negative integer');
      const lp = numberArray(x, 'logPrAnswered', path, queries, (v) => v <= 0, 'a log-probability (<= 0)');
      return lp
        ? { kind: 'gnmax_threshold', threshold, sigma, queries, logPrAnswered: lp }
        : { kind: 'gnmax_threshold', threshold, sigma, queries };
    }
    case 'confident_gnmax': {
      noExtraFields(x, ['kind', 'threshold', 'sigma1', 'sigma2', 'queries', 'answered'], path);
      const queries = num(x, 'queries', path, count, 'a non-negative integer');
      return {
        kind: 'confident_gnmax',
        threshold: num(x, 'threshold', path, () => true, 'a number'),
        sigma1: num(x, 'sigma1', path, positive, 'positive'),
        sigma2: num(x, 'sigma2', path, positive, 'positive'),
        queries,
        answered: num(x, 'answered', path, (v) => count(v) && v <= queries, 'an integer in [0, queries]'),
      };
    }
    case 'gaussian_soft_labels':
      noExtraFields(x, ['kind', 'sigma', 'clipNorm', 'queries'], path);
      return {
        kind: 'gaussian_soft_labels',
        sigma: num(x, 'sigma', path, positive, 'positive'),
        clipNorm: num(x, 'clipNorm', path, positive, 'positive'),
        queries: num(x, 'queries', path, count, 'a non-negative integer'),
      };
    case 'non_private':
      noExtraFields(x, ['kind'], path);
      return { kind: 'non_private' };
    case 'no_op':
      noExtraFields(x, ['kind'], path);
      return { kind: 'no_op' };
    case 'unsupported': {
      noExtraFields(x, ['kind', 'description'], path);
      if (x.description !== undefined && typeof x.description !== 'string')
        throw new DpEventError(`${path}.description`, 'must be a string');
      return x.description === undefined ? { kind: 'unsupported' } : { kind: 'unsupported', description: x.description };
    }
  }
}

/**
 * Parses untrusted JSON (a value or a string) into a frozen DpEvent. Accepts the envelope
 * `{schemaVersion, event}` written by serializeDpEvent or a bare event. Throws DpEventError naming
 * the offending field; rejects unknown fields and versions newer than this reader.
 */
export function parseDpEvent(json: unknown): DpEvent {
  let x = json;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x) as unknown;
    } catch (e) {
      throw new DpEventError('$', `not valid JSON (${(e as Error).message})`);
    }
  }
  if (isObject(x) && 'schemaVersion' in x) {
    const v = x.schemaVersion;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
      throw new DpEventError('schemaVersion', `must be a positive integer, got ${JSON.stringify(v)}`);
    if (v > DP_EVENT_SCHEMA_VERSION)
      throw new DpEventError('schemaVersion', `version ${v} is newer than this reader (${DP_EVENT_SCHEMA_VERSION})`);
    noExtraFields(x, ['schemaVersion', 'event'], '$');
    return freezeDpEvent(parseEvent(x.event, 'event', 0));
  }
  return freezeDpEvent(parseEvent(x, 'event', 0));
}
