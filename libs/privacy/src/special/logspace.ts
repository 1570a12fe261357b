/**
 * Log-space arithmetic. Privacy quantities span hundreds of orders of magnitude (a GNMax
 * log q of -800 is routine), so sums and differences are taken on logarithms.
 */

/** log(e^a + e^b), exact for infinite arguments (as numpy.logaddexp). */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  if (a === Infinity || b === Infinity) return Infinity;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** log(e^a - e^b) for a >= b; -Infinity when a == b. Throws when the result would be negative. */
export function logSubExp(a: number, b: number): number {
  if (a < b) throw new RangeError(`logSubExp: result would be negative (${a} < ${b})`);
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  return a + log1mExp(b - a);
}

/**
 * log(1 - e^x) for x <= 0, switching between log1p(-e^x) and log(-expm1(x)) at x = -ln 2
 * (Mächler 2012) so that neither branch cancels. Upstream PATE switches at -1; both are
 * accurate to a few ulps, the -ln 2 switch is the documented optimum.
 */
export function log1mExp(x: number): number {
  if (x > 0) throw new RangeError(`log1mExp: argument must be non-positive, got ${x}`);
  if (x === 0) return -Infinity;
  return x < -Math.LN2 ? Math.log1p(-Math.exp(x)) : Math.log(-Math.expm1(x));
}

/** log Σ e^{x_i} over a list, as scipy.special.logsumexp (shift by the maximum). */
export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i] > m) m = xs[i];
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i] - m);
  return m + Math.log(s);
}

/**
 * Signed log-space accumulator: tracks sign * exp(logMag). Needed by the fractional-order
 * subsampled Gaussian series, whose binomial coefficients alternate in sign and whose partial
 * sums are not guaranteed positive in floating point.
 */
export class SignedLogSum {
  sign = 0;
  logMag = -Infinity;

  add(sign: number, logMag: number): void {
    if (logMag === -Infinity || sign === 0) return;
    if (this.sign === 0) {
      this.sign = sign;
      this.logMag = logMag;
      return;
    }
    if (this.sign === sign) {
      this.logMag = logAddExp(this.logMag, logMag);
      return;
    }
    if (this.logMag > logMag) {
      this.logMag = logSubExp(this.logMag, logMag);
    } else if (this.logMag < logMag) {
      this.logMag = logSubExp(logMag, this.logMag);
      this.sign = sign;
    } else {
      this.sign = 0;
      this.logMag = -Infinity;
    }
  }
}
