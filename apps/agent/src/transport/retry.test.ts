import { describe, expect, it } from 'vitest';
import { backoffDelay, TransientError, withRetry } from './retry';

describe('retries', () => {
  const policy = { maxAttempts: 4, initialDelayMs: 1, maxDelayMs: 8 };

  it('draws full-jitter delays below an exponentially growing ceiling, capped', () => {
    const top = (n: number) => backoffDelay({ ...policy, initialDelayMs: 100, maxDelayMs: 1000 }, n, (max) => max - 1);
    expect([0, 1, 2, 3, 4, 10].map(top)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
  });

  it('retries transient failures only, up to maxAttempts', async () => {
    let calls = 0;
    await expect(withRetry(() => Promise.reject(new TransientError(`down ${++calls}`)), { policy })).rejects.toThrow('down 4');
    calls = 0;
    await expect(withRetry(() => Promise.reject(new Error(`bad ${++calls}`)), { policy })).rejects.toThrow('bad 1');
    calls = 0;
    expect(await withRetry(() => (++calls < 3 ? Promise.reject(new TransientError('x')) : Promise.resolve(calls)), { policy })).toBe(3);
  });
});
