import { describe, expect, it } from 'vitest';
import { rdpSubsampledGaussian } from './subsampled-gaussian';

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b);

describe('Poisson-subsampled Gaussian RDP', () => {
  it('is α/(2σ²) without subsampling and 0 with q = 0', () => {
    expect(rdpSubsampledGaussian(1, 2, 3)).toBe(3 / 8);
    expect(rdpSubsampledGaussian(0, 2, 3)).toBe(0);
  });

  it('matches the closed form at α = 2: log(1 + q²(e^{1/σ²} - 1))', () => {
    for (const [q, s] of [
      [1e-3, 50],
      [0.01, 1],
      [0.1, 0.5],
    ]) {
      expect(rel(rdpSubsampledGaussian(q, s, 2), Math.log1p(q * q * Math.expm1(1 / (s * s))))).toBeLessThan(1e-13);
    }
  });

  it('matches 50-digit quadrature at fractional orders (README cross-check table)', () => {
    // exact values from mpmath quadrature of A_α, vectors README
    expect(rel(rdpSubsampledGaussian(0.1, 50, 1.1), 2.2003643e-6)).toBeLessThan(1e-7);
    expect(rel(rdpSubsampledGaussian(0.01, 0.5, 1.5), 2.6298912e-3)).toBeLessThan(1e-7);
    expect(rel(rdpSubsampledGaussian(0.1, 1, 1.6), 1.2720454e-2)).toBeLessThan(1e-7);
    expect(rel(rdpSubsampledGaussian(0.1, 0.5, 1.1), 6.9535893e-2)).toBeLessThan(1e-7);
    expect(rel(rdpSubsampledGaussian(0.01, 1, 4), 3.6315405e-4)).toBeLessThan(1e-7);
  });

  it('is increasing in the order and in q', () => {
    let prev = 0;
    for (const a of [1.5, 2, 2.5, 3, 8, 32]) {
      const r = rdpSubsampledGaussian(0.01, 1.1, a);
      expect(r).toBeGreaterThan(prev);
      prev = r;
    }
    expect(rdpSubsampledGaussian(0.02, 1.1, 4)).toBeGreaterThan(rdpSubsampledGaussian(0.01, 1.1, 4));
  });
});
