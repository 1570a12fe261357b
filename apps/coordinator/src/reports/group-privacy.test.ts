import { describe, expect, it } from 'vitest';
import { groupPrivacyBound } from './group-privacy';

describe('groupPrivacyBound', () => {
  it('is the per-unit guarantee itself for a group of one', () => {
    expect(groupPrivacyBound(2, 1e-5, 1)).toEqual({ groupSize: 1, epsilon: 2, delta: 1e-5, meaningful: true });
  });

  it('gives (kε, k·e^{(k−1)ε}·δ): k = 3, ε = 0.5, δ = 1e-6 → (1.5, 3·e·1e-6)', () => {
    const b = groupPrivacyBound(0.5, 1e-6, 3);
    expect(b.epsilon).toBeCloseTo(1.5, 12);
    // 3 · e^{1} · 1e-6 = 8.154845485377136e-6 (by hand: e = 2.718281828459045)
    expect(b.delta).toBeCloseTo(8.154845485377136e-6, 18);
    expect(b.meaningful).toBe(true);
  });

  it('says plainly when the bound promises nothing (δ ≥ 1)', () => {
    const b = groupPrivacyBound(4, 1e-5, 10); // 10·e^{36}·1e-5 ≈ 4.3e11
    expect(b.epsilon).toBe(40);
    expect(b.delta).toBeGreaterThan(1);
    expect(b.meaningful).toBe(false);
    expect(groupPrivacyBound(800, 1e-5, 50).meaningful).toBe(false);
  });

  it('refuses a group size that is not a positive integer', () => {
    expect(() => groupPrivacyBound(1, 1e-5, 0)).toThrow(/groupSize/);
    expect(() => groupPrivacyBound(1, 1e-5, 1.5)).toThrow(/groupSize/);
  });
});
