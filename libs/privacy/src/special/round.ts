/**
 * Python's round(x) for floats: round half to even (200.5 → 200, 201.5 → 202). PATE's
 * compute_logpr_answered rounds the maximum vote with it; Math.round would differ on halves.
 */
export function roundHalfEven(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const diff = x - f;
  if (diff < 0.5) return f;
  if (diff > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}
