/**
 * softplus(d) = log(1 + e^d), to ~1e-16 relative, without a transcendental call for |d| ≤ 8.
 *
 * For |d| ≤ 8 a table of Taylor coefficients on a grid of step 1/64 is used: with σ = 1/(1+e^-d)
 * the derivatives are softplus' = σ and σ^(n) = σ(1-σ)·P_n(σ) (Eulerian polynomials), so the
 * degree-6 expansion around the nearest grid point has remainder ≤ |σ^(6)|/7! · (1/128)^7 < 1e-20,
 * far below softplus(-8) ≈ 3.4e-4 × 1e-16. Outside the band one exp and a five-term log1p series
 * (the argument is < 3.4e-4 there, so the series error is below 1e-20 relative).
 */

const H_INV = 64;
const LIMIT = 8;
const POINTS = 2 * LIMIT * H_INV + 1;
const DEG = 7; // coefficients c0..c6
let table: Float64Array | null = null;

function buildTable(): Float64Array {
  const tab = new Float64Array(POINTS * DEG);
  for (let j = 0; j < POINTS; j++) {
    const d = -LIMIT + j / H_INV;
    // σ and 1-σ each computed without cancellation
    const s = 1 / (1 + Math.exp(-d));
    const r = 1 / (1 + Math.exp(d));
    const sr = s * r;
    const f0 = d > 0 ? d + Math.log1p(Math.exp(-d)) : Math.log1p(Math.exp(d));
    const f1 = s;
    const f2 = sr;
    const f3 = sr * (r - s);
    const f4 = sr * (1 - 6 * sr);
    const f5 = sr * (r - s) * (1 - 12 * sr);
    const f6 = sr * (1 - 30 * sr + 120 * sr * sr);
    const o = j * DEG;
    tab[o] = f0;
    tab[o + 1] = f1;
    tab[o + 2] = f2 / 2;
    tab[o + 3] = f3 / 6;
    tab[o + 4] = f4 / 24;
    tab[o + 5] = f5 / 120;
    tab[o + 6] = f6 / 720;
  }
  return tab;
}

function series(u: number): number {
  return u * (1 - u * (0.5 - u * (1 / 3 - u * (0.25 - u * 0.2))));
}

export function softplus(d: number): number {
  if (d >= -LIMIT && d <= LIMIT) {
    const tab = table ?? (table = buildTable());
    const j = ((d + LIMIT) * H_INV + 0.5) | 0; // nearest grid point (argument is in [0.5, 1024.5])
    const x = d - (-LIMIT + j / H_INV);
    const o = j * DEG;
    return tab[o] + x * (tab[o + 1] + x * (tab[o + 2] + x * (tab[o + 3] + x * (tab[o + 4] + x * (tab[o + 5] + x * tab[o + 6])))));
  }
  if (d < -LIMIT) return d < -746 ? 0 : series(Math.exp(d));
  if (d > 37) return d; // log1p(e^-d) < 1e-16·d
  return d + series(Math.exp(-d));
}
