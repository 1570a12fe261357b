import { describe, expect, it } from 'vitest';
import {
  DP_EVENT_SCHEMA_VERSION,
  DpEventError,
  composedEvent,
  gaussianEvent,
  gnmaxEvent,
  parseDpEvent,
  poissonSampledEvent,
  selfComposedEvent,
  serializeDpEvent,
} from './index';

describe('DpEvent', () => {
  it('round-trips through its JSON envelope', () => {
    const e = composedEvent([selfComposedEvent(poissonSampledEvent(0.01, gaussianEvent(1.1)), 100), gnmaxEvent(40, 3, [-5, -6, -7])]);
    const json = serializeDpEvent(e);
    expect(JSON.parse(json).schemaVersion).toBe(DP_EVENT_SCHEMA_VERSION);
    expect(parseDpEvent(json)).toEqual(e);
    expect(parseDpEvent(JSON.parse(json))).toEqual(e);
  });

  it('is immutable', () => {
    const e = gnmaxEvent(40, 2, [-1, -2]);
    expect(Object.isFrozen(e)).toBe(true);
    expect(Object.isFrozen(e.logq)).toBe(true);
    expect(Object.isFrozen(parseDpEvent({ kind: 'gaussian', noiseMultiplier: 1 }))).toBe(true);
  });

  it('names the bad field of untrusted input', () => {
    const bad = (x: unknown): string => {
      try {
        parseDpEvent(x);
      } catch (e) {
        expect(e).toBeInstanceOf(DpEventError);
        return (e as DpEventError).field;
      }
      return 'no error';
    };
    expect(bad({ kind: 'gaussian', noiseMultiplier: -1 })).toBe('event.noiseMultiplier');
    expect(bad({ kind: 'teleport' })).toBe('event.kind');
    expect(
      bad({
        kind: 'composed',
        events: [
          { kind: 'gaussian', noiseMultiplier: 1 },
          { kind: 'gnmax', sigma: 0, queries: 1 },
        ],
      }),
    ).toBe('event.events[1].sigma');
    expect(bad({ kind: 'gnmax', sigma: 40, queries: 2, logq: [-1] })).toBe('event.logq');
    expect(bad({ kind: 'gnmax', sigma: 40, queries: 1.5 })).toBe('event.queries');
    expect(bad({ kind: 'gaussian', noiseMultiplier: 1, extra: 1 })).toBe('event.extra');
    expect(bad({ schemaVersion: DP_EVENT_SCHEMA_VERSION + 1, event: { kind: 'no_op' } })).toBe('schemaVersion');
    expect(bad('{not json')).toBe('$');
    expect(bad({ kind: 'confident_gnmax', threshold: 200, sigma1: 150, sigma2: 40, queries: 10, answered: 11 })).toBe('event.answered');
  });
});
