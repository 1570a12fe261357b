import { erfc, erfcx, logErfc } from './erf';

/**
 * log Φ(x), the log of the standard normal CDF, accurate in the deep left tail. Same split as
 * scipy.special.log_ndtr (Faddeeva package, S. G. Johnson): for x < -1 it is
 * log(erfcx(-x/√2)/2) - x²/2, which never underflows; otherwise log1p(-erfc(x/√2)/2).
 */
export function logNdtr(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === -Infinity) return -Infinity;
  if (x === Infinity) return 0;
  const t = x * Math.SQRT1_2;
  if (x < -1) return Math.log(erfcx(-t) / 2) - t * t;
  return Math.log1p(-erfc(t) / 2);
}

/** Φ(x). */
export function ndtr(x: number): number {
  return 0.5 * erfc(-x * Math.SQRT1_2);
}

/**
 * log of the normal survival function, log Pr[N(0, scale²) > x] (scipy.stats.norm.logsf).
 * PATE's log q and log Pr[answered] are this function deep in the tail.
 */
export function normLogSf(x: number, scale = 1): number {
  return logNdtr(-x / scale);
}

/**
 * Inverse of erfc on (0, 2). An initial guess from the asymptotic expansion or a rational
 * approximation, then Newton steps on log erfc(x) = log y, which keep full relative accuracy
 * even for y = 1e-300 (smooth sensitivity needs erfcinv of q/(m-1) with q as small as e^-700).
 */
export function erfcinv(y: number): number {
  if (Number.isNaN(y) || y < 0 || y > 2) return NaN;
  if (y === 0) return Infinity;
  if (y === 2) return -Infinity;
  if (y === 1) return 0;
  if (y > 1) return -erfcinv(2 - y);
  return erfcinvOfLog(Math.log(y), y);
}

/**
 * erfcinv(e^logY) for logY < 0 without forming e^logY, so that arguments below the smallest
 * double (log q < -745) still have an inverse.
 */
export function erfcinvLog(logY: number): number {
  if (Number.isNaN(logY) || logY > Math.LN2) return NaN;
  if (logY === -Infinity) return Infinity;
  if (logY >= 0) return erfcinv(Math.exp(logY));
  return erfcinvOfLog(logY, logY > -700 ? Math.exp(logY) : 0);
}

function erfcinvOfLog(logY: number, y: number): number {
  // Initial guess: x ≈ sqrt(-log y) corrected for the 1/(x√π) prefactor.
  let x: number;
  if (y > 0.5) {
    // near 0: erfc(x) ≈ 1 - 2x/√π
    x = ((1 - y) * Math.sqrt(Math.PI)) / 2;
  } else {
    const t = Math.sqrt(-logY);
    x = t;
    for (let k = 0; k < 3; k++) x = Math.sqrt(Math.max(-logY - Math.log(x * Math.sqrt(Math.PI)), 1e-300));
    if (!Number.isFinite(x) || x <= 0) x = t;
  }
  for (let it = 0; it < 60; it++) {
    // f(x) = log erfc(x) - log y; f'(x) = -2 / (√π erfcx(x)).
    const f = logErfc(x) - logY;
    const fp = -2 / (Math.sqrt(Math.PI) * erfcx(x));
    const step = f / fp;
    x -= step;
    if (Math.abs(step) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}
