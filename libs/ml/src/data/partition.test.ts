import { describe, expect, it } from 'vitest';
import { holdoutSplit, partition } from './partition';
import { seededPermutation } from './prng';

describe('partition', () => {
  it('splits 10 examples into 3 disjoint partitions of sizes 4, 3, 3 that cover every index', () => {
    const p = partition(10, 3, 42);
    expect(p.parts.map((x) => x.length)).toEqual([4, 3, 3]);
    const all = p.parts.flatMap((x) => Array.from(x)).sort((a, b) => a - b);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(p.seed).toBe(42);
    expect(p.k).toBe(3);
  });

  it('is deterministic in the seed and changes with it', () => {
    const a = partition(1000, 5, 7);
    const b = partition(1000, 5, 7);
    const c = partition(1000, 5, 8);
    expect(a.parts.map((x) => Array.from(x))).toEqual(b.parts.map((x) => Array.from(x)));
    expect(a.parts.map((x) => Array.from(x))).not.toEqual(c.parts.map((x) => Array.from(x)));
  });

  it('refuses more partitions than examples', () => {
    expect(() => partition(3, 4, 1)).toThrow(/cannot split 3 examples into 4/);
  });

  it('a seeded permutation is a permutation', () => {
    const p = Array.from(seededPermutation(100, 3)).sort((a, b) => a - b);
    expect(p).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('holdoutSplit', () => {
  it('holds out a fraction or a count, disjoint from the rest', () => {
    const byFraction = holdoutSplit(50, 0.2, 1);
    expect(byFraction.holdout.length).toBe(10);
    expect(byFraction.train.length).toBe(40);
    const seen = new Set([...byFraction.holdout, ...byFraction.train]);
    expect(seen.size).toBe(50);
    expect(holdoutSplit(50, 7, 1).holdout.length).toBe(7);
    expect(() => holdoutSplit(5, 6, 1)).toThrow(/holdout/);
  });
});
