import type { NextFunction, Request, Response } from 'express';
import type { ProblemDetails } from './problem';

const MAX_TRACKED_CLIENTS = 20_000;
const EXEMPT = new Set(['/health', '/metrics']);

/**
 * A token bucket per client address for every route but health and metrics: `rps` requests per
 * second sustained, bursts of 4·rps. Over the limit: 429 problem+json with Retry-After. Per replica
 * and in memory — it keeps one noisy client from starving the others; it is not an accounting.
 * Behind a reverse proxy, set Express's `trust proxy` so that `req.ip` is the client's.
 */
export function rateLimiter(rps: number): (req: Request, res: Response, next: NextFunction) => void {
  const capacity = Math.max(1, 4 * rps);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (req, res, next) => {
    if (rps <= 0 || EXEMPT.has(req.path)) return next();
    const now = Date.now();
    const client = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    let bucket = buckets.get(client);
    if (!bucket) {
      if (buckets.size >= MAX_TRACKED_CLIENTS) {
        // Forget buckets that have refilled completely: they carry no state.
        for (const [key, b] of buckets) if (b.tokens + ((now - b.at) / 1000) * rps >= capacity) buckets.delete(key);
      }
      bucket = { tokens: capacity, at: now };
      buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * rps);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return next();
    }
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / rps));
    const problem: ProblemDetails = {
      type: 'about:blank',
      title: 'Too many requests',
      status: 429,
      detail: `more than ${rps} requests per second from this client; retry in ${retryAfter} s`,
      instance: req.originalUrl.split('?')[0],
    };
    res.status(429).setHeader('retry-after', String(retryAfter));
    res.type('application/problem+json').send(JSON.stringify(problem));
  };
}
