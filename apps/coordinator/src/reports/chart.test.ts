import { describe, expect, it } from 'vitest';
import { spentChart } from './chart';

describe('spentChart', () => {
  it('draws one point per ledger entry, at that entry’s ε, and the cap as a line', () => {
    const at = (s: number): Date => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const svg = spentChart(
      [
        { seq: 1, at: at(0), epsilonSpent: 0, epsilonCap: 8 },
        { seq: 2, at: at(10), epsilonSpent: 1.5, epsilonCap: 8 },
        { seq: 3, at: at(20), epsilonSpent: 3.25, epsilonCap: 6 },
      ],
      'Bank <A>',
    );
    expect(svg.match(/<circle class="spent-point"/g)).toHaveLength(3);
    expect(svg).toContain('data-seq="3" data-epsilon="3.25"');
    expect(svg).toContain('class="cap-line"');
    expect(svg).toContain('Bank &lt;A&gt;');
    expect(svg).not.toContain('<script');
  });

  it('keeps every point visible when all entries share one instant, and draws an empty ledger', () => {
    const same = new Date(0);
    const svg = spentChart(
      [1, 2, 3, 4].map((seq) => ({ seq, at: same, epsilonSpent: seq, epsilonCap: 10 })),
      'x',
    );
    const xs = [...svg.matchAll(/class="spent-point"[^>]* cx="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(new Set(xs).size).toBe(4);
    expect(spentChart([], 'empty')).toContain('<svg');
  });
});
