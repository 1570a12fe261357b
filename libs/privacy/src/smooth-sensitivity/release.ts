/**
 * Smooth sensitivity S_β = max_d e^{-βd} LS(d) (Nissim, Raskhodnikova, Smith 2007, Def. 2.2;
 * smooth_sensitivity.compute_discounted_max).
 */
export function computeDiscountedMax(beta: number, ls: ArrayLike<number>): number {
  let best = -Infinity;
  for (let d = 0; d < ls.length; d++) {
    const v = ls[d] * Math.exp(-beta * d);
    if (v > best) best = v;
  }
  return best;
}

/**
 * RDP at order λ of the GNSS release (value + S_β · N(0, σ²)): λ e^{2β}/σ² + (βλ - ½ log(1 - 2λβ))/(λ - 1),
 * valid for 1 < λ < 1/(2β) (Scalable PATE, Theorem 23;
 * smooth_sensitivity.compute_rdp_of_smooth_sensitivity_gaussian).
 */
export function rdpOfSmoothSensitivityGaussian(beta: number, sigma: number, order: number): number {
  if (beta > 0 && !(order > 1 && order < 1 / (2 * beta))) {
    throw new RangeError(`order ${order} outside the (1, 1/(2β)) range for β=${beta}`);
  }
  return (order * Math.exp(2 * beta)) / (sigma * sigma) + (-0.5 * Math.log(1 - 2 * order * beta) + beta * order) / (order - 1);
}

/**
 * The σ minimising λ e^{2β}/σ² + 2 S_β σ (privacy cost of the release plus two standard deviations
 * of its noise), as smooth_sensitivity_table.py: σ = (λ e^{2β} / S_β)^{1/3}.
 */
export function optimalSigmaSs(beta: number, smoothSensitivity: number, order: number): number {
  // x ** (1/3) rather than cbrt, as upstream, so that argmins over β grids match bit for bit.
  return Math.pow((order * Math.exp(2 * beta)) / smoothSensitivity, 1 / 3);
}
