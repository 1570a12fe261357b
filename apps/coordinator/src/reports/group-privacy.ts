/**
 * Group privacy for approximate DP (Dwork & Roth, "The Algorithmic Foundations of Differential
 * Privacy", 2014, Theorem 2.2 and its (ε, δ) extension, Lemma 2.2 of Vadhan, "The Complexity of
 * Differential Privacy", 2017): an (ε, δ)-DP mechanism is (kε, k·e^{(k−1)ε}·δ)-DP for datasets that
 * differ in k units. Here a unit is one teacher's partition, so k is the number of teachers an
 * institution trained: the bound covers changing everything that institution holds.
 */
export interface GroupPrivacyBound {
  groupSize: number;
  epsilon: number;
  delta: number;
  /** False when δ ≥ 1 (or not finite): the bound then promises nothing at all. */
  meaningful: boolean;
}

export function groupPrivacyBound(epsilon: number, delta: number, groupSize: number): GroupPrivacyBound {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new RangeError(`groupSize must be a positive integer, got ${groupSize}`);
  if (!(epsilon >= 0) || !(delta >= 0)) throw new RangeError(`epsilon and delta must be non-negative, got (${epsilon}, ${delta})`);
  const k = groupSize;
  const groupEpsilon = k * epsilon;
  // δ = 0 stays 0 (pure DP composes without a δ term), rather than 0·∞ = NaN for a large kε.
  const groupDelta = delta === 0 ? 0 : k * Math.exp((k - 1) * epsilon) * delta;
  return { groupSize: k, epsilon: groupEpsilon, delta: groupDelta, meaningful: Number.isFinite(groupDelta) && groupDelta < 1 };
}
