import { logAddExp, SignedLogSum } from '../special/logspace';
import { logNdtr } from '../special/ndtr';

/**
 * RDP of the Gaussian mechanism with L2 sensitivity 1 and noise N(0, z²): α / (2z²).
 * Mironov 2017 ("Rényi Differential Privacy"), Prop. 7.
 */
export function rdpGaussianMechanism(noiseMultiplier: number, order: number): number {
  if (noiseMultiplier === 0) return Infinity;
  return order / (2 * noiseMultiplier * noiseMultiplier);
}

/** log(e^c - 1) without overflow for large c. */
function logExpm1(c: number): number {
  return c > 1 ? c + Math.log1p(-Math.exp(-c)) : Math.log(Math.expm1(c));
}

/**
 * log A_α for integer α of the Poisson-subsampled Gaussian (Mironov, Talwar, Zhang 2019,
 * "Rényi Differential Privacy of the Sampled Gaussian Mechanism", Sec. 3.3):
 *   A_α = Σ_i C(α,i) q^i (1-q)^{α-i} exp((i²-i)/(2σ²)).
 * Written as 1 + Σ_{i≥2} C(α,i) q^i (1-q)^{α-i} expm1((i²-i)/(2σ²)) (the i = 0, 1 terms and the
 * "1" of every exponential sum to exactly 1 by the binomial theorem), so that tiny RDP values
 * (α = 2, q = 1e-3, σ = 50: A - 1 ≈ 4e-10) keep full relative precision instead of being the
 * difference of two numbers near 1, as in both upstream implementations.
 */
export function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logS = -Infinity;
  let logComb = Math.log(alpha); // log C(α, 1)
  for (let i = 2; i <= alpha; i++) {
    logComb += Math.log((alpha - i + 1) / i);
    const term = logComb + i * logQ + (alpha - i) * log1mQ + logExpm1((i * i - i) / twoVar);
    logS = logAddExp(logS, term);
  }
  // log(1 + S)
  return logS > 0 ? logS + Math.log1p(Math.exp(-logS)) : Math.log1p(Math.exp(logS));
}

/**
 * log A_α for fractional α, the exact alternating series of Mironov, Talwar, Zhang 2019, Sec. 3.3,
 * as TF Privacy's rdp_accountant._compute_log_a_frac computes it: the integral is split at
 * z0 = σ² log(1/q - 1) + 1/2, each half expanded in the generalised binomial series whose
 * coefficients C(α, i) change sign; negative terms are subtracted in log space. Stops, like
 * TF Privacy, once both new terms are below e^-30 (A_α ≥ 1, so this is a relative criterion).
 * dp_accounting instead adds |C(α, i)|, a looser bound (see the vectors README).
 */
export function logAFractional(q: number, sigma: number, alpha: number, maxTerms = 1_000_000): number {
  const a0 = new SignedLogSum();
  const a1 = new SignedLogSum();
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logCoef = 0; // log |C(α, i)|
  let sign = 1;
  for (let i = 0; i < maxTerms; i++) {
    if (i > 0) {
      const ratio = (alpha - i + 1) / i;
      if (ratio < 0) sign = -sign;
      logCoef += Math.log(Math.abs(ratio));
    }
    const j = alpha - i;
    const logT0 = logCoef + i * logQ + j * log1mQ;
    const logT1 = logCoef + j * logQ + i * log1mQ;
    // ½ erfc((i - z0)/(√2σ)) = Φ((z0 - i)/σ)
    const logE0 = logNdtr((z0 - i) / sigma);
    const logE1 = logNdtr((j - z0) / sigma);
    const logS0 = logT0 + (i * i - i) / twoVar + logE0;
    const logS1 = logT1 + (j * j - j) / twoVar + logE1;
    a0.add(sign, logS0);
    a1.add(sign, logS1);
    if (Math.max(logS0, logS1) < -30) break;
    if (i === maxTerms - 1) return Infinity;
  }
  const total = new SignedLogSum();
  total.add(a0.sign, a0.logMag);
  total.add(a1.sign, a1.logMag);
  if (total.sign < 0) throw new RangeError(`fractional-order series became negative (q=${q}, σ=${sigma}, α=${alpha})`);
  return total.logMag;
}

/**
 * RDP at order α of one step of the Poisson-subsampled Gaussian mechanism with sampling rate q
 * and noise multiplier σ (Mironov, Talwar, Zhang 2019, Sec. 3.3): log(A_α)/(α - 1).
 */
export function rdpSubsampledGaussian(q: number, noiseMultiplier: number, order: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`sampling probability must be in [0, 1], got ${q}`);
  if (!(noiseMultiplier >= 0)) throw new RangeError(`noise multiplier must be non-negative, got ${noiseMultiplier}`);
  if (q === 0) return 0;
  if (noiseMultiplier === 0 || order === Infinity) return Infinity;
  if (q === 1) return rdpGaussianMechanism(noiseMultiplier, order);
  const logA = Number.isInteger(order) ? logAInteger(q, noiseMultiplier, order) : logAFractional(q, noiseMultiplier, order);
  return logA / (order - 1);
}

/** Vector form over an order list, times the number of steps (TF Privacy compute_rdp). */
export function computeRdpSubsampledGaussian(q: number, noiseMultiplier: number, steps: number, orders: ArrayLike<number>): Float64Array {
  const out = new Float64Array(orders.length);
  for (let k = 0; k < orders.length; k++) out[k] = rdpSubsampledGaussian(q, noiseMultiplier, orders[k]) * steps;
  return out;
}
