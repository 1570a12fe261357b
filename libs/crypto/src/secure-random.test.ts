import { describe, expect, it } from 'vitest';
import { secureInt, secureStandardNormal, secureUniform } from './secure-random';

describe('secure randomness', () => {
  it('draws uniforms in (0, 1) with the right mean and variance', () => {
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const u = secureUniform();
      sum += u;
      sumSq += u * u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    const mean = sum / n;
    // 6 standard errors: a false failure has probability ~2e-9.
    expect(Math.abs(mean - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sumSq / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
  });

  it('draws standard normals with mean 0, variance 1 and Gaussian tails', () => {
    const n = 200_000;
    let sum = 0;
    let sumSq = 0;
    let beyond2 = 0;
    for (let i = 0; i < n; i++) {
      const z = secureStandardNormal();
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) > 2) beyond2++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(6 / Math.sqrt(n));
    // Var of the sample variance of N(0,1) is 2/n.
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(6 * Math.sqrt(2 / n));
    // P(|Z| > 2) = 0.0455003.
    const p = 0.0455003;
    expect(Math.abs(beyond2 / n - p)).toBeLessThan(6 * Math.sqrt((p * (1 - p)) / n));
  });

  it('draws integers in range without bias', () => {
    const counts = new Array<number>(7).fill(0);
    const n = 70_000;
    for (let i = 0; i < n; i++) counts[secureInt(7)]++;
    // Chi-square with 6 degrees of freedom; 40 is far in the tail (p ≈ 5e-7).
    const chi2 = counts.reduce((acc, c) => acc + (c - n / 7) ** 2 / (n / 7), 0);
    expect(chi2).toBeLessThan(40);
    expect(() => secureInt(0)).toThrow(RangeError);
  });

  it('is not Math.random', () => {
    const original = Math.random;
    Math.random = () => 0.25;
    try {
      const draws = new Set(Array.from({ length: 10 }, () => secureUniform()));
      expect(draws.size).toBe(10);
    } finally {
      Math.random = original;
    }
  });
});
