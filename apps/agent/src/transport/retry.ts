import { randomInt } from 'node:crypto';

export interface RetryPolicy {
  /** Attempts in all, the first included; Infinity for a daemon that waits out any outage. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, initialDelayMs: 500, maxDelayMs: 60_000 };

/** A failure worth retrying: the network, or the coordinator saying 5xx / 429. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

/**
 * "Full jitter" exponential backoff (AWS architecture blog, 2015): a delay drawn uniformly from
 * [0, min(max, initial·2^n)], so many agents recovering from the same outage do not retry in step.
 */
export function backoffDelay(policy: RetryPolicy, failures: number, random: (maxExclusive: number) => number = randomInt): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(failures, 30));
  return random(Math.max(1, Math.floor(ceiling)) + 1);
}

/** Resolves after `ms`, or at once when `signal` aborts (the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

export interface RetryContext {
  policy: RetryPolicy;
  signal?: AbortSignal;
  onRetry?: (failure: Error, attempt: number, delayMs: number) => void;
}

/** Runs `operation`, retrying TransientErrors with backoff; anything else propagates at once. */
export async function withRetry<T>(operation: () => Promise<T>, context: RetryContext): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof TransientError) || attempt >= context.policy.maxAttempts || context.signal?.aborted) throw error;
      const delay = backoffDelay(context.policy, attempt - 1);
      context.onRetry?.(error, attempt, delay);
      await sleep(delay, context.signal);
      if (context.signal?.aborted) throw error;
    }
  }
}
