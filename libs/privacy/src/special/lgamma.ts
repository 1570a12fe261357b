/**
 * log|Γ(x)| for real x. Stirling's asymptotic series after shifting the argument to x >= 15
 * (the truncation error there is below 1e-17 relative), reflection for x < 0.5. Accurate to a
 * few ulps in absolute terms, which is what log-binomial coefficients need.
 */
const HALF_LOG_2PI = 0.91893853320467274178032973640562;
// Bernoulli coefficients B_{2k} / (2k (2k-1)), k = 1..8.
const STIRLING = [1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156, -3617 / 122400];

export function lgamma(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return Infinity;
  if (x <= 0 && Number.isInteger(x)) return Infinity;
  if (x < 0.5) {
    // Γ(x)Γ(1-x) = π / sin(πx)
    return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  }
  if (x === 1 || x === 2) return 0;
  let shift = 0;
  let prod = 1;
  let y = x;
  while (y < 15) {
    prod *= y;
    y += 1;
    // Keep the running product in range; fold it into the log when it grows.
    if (prod > 1e280) {
      shift += Math.log(prod);
      prod = 1;
    }
  }
  shift += Math.log(prod);
  const inv = 1 / y;
  const inv2 = inv * inv;
  let series = 0;
  for (let k = STIRLING.length - 1; k >= 0; k--) series = series * inv2 + STIRLING[k];
  series *= inv;
  return (y - 0.5) * Math.log(y) - y + HALF_LOG_2PI + series - shift;
}

/** log C(n, k) through log-gamma (as dp_accounting's _log_comb with scipy.special.gammaln). */
export function logComb(n: number, k: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}
