import { epsilonFromRdp, epsilonFromRdpBasic } from '../conversion';
import {
  computeLogqGaussian,
  isDataIndependentAlwaysOptGaussian,
  rdpDataIndependentGaussian,
  rdpGaussian,
  rdpGaussianScalar,
} from '../pate/gnmax';
import {
  computeLogPrAnswered,
  computeRdpThreshold,
  computeRdpThresholdScalar,
  isDataIndependentAlwaysOptThreshold,
  rdpDataIndependentThreshold,
} from '../pate/threshold';
import { localSensitivityBoundsGnmax } from './gnmax';
import { computeDiscountedMax, optimalSigmaSs, rdpOfSmoothSensitivityGaussian } from './release';
import { localSensitivityBoundsThreshold } from './threshold';

/** Confident-GNMax parameters; `threshold` null means plain GNMax (every query answered). */
export interface ConfidentGnmaxParams {
  readonly threshold: number | null;
  readonly sigma1: number | null;
  readonly sigma2: number;
}

export interface ConfidentRdpResult {
  readonly rdp: Float64Array;
  readonly expectedAnswered: number;
  readonly logPrAnswered: Float64Array;
}

/**
 * Expected RDP of Confident-GNMax over a sequence of vote histograms, as the paper's Table 2
 * computes it (smooth_sensitivity_table._compute_rdp): per query, the threshold step's RDP plus
 * Pr[answered] × the GNMax RDP. This is an expectation over the threshold noise, not a
 * worst-case ledger charge: a ledger charges GNMax on the queries actually answered.
 * `dataIndependent` replaces both RDPs by their data-independent bounds, keeping the
 * data-dependent Pr[answered] weight exactly as the upstream script does.
 */
export function computeConfidentGnmaxRdp(
  votes: ReadonlyArray<ArrayLike<number>>,
  params: ConfidentGnmaxParams,
  orders: ArrayLike<number>,
  dataIndependent = false,
): ConfidentRdpResult {
  const n = orders.length;
  const rdp = new Float64Array(n);
  const logPr = new Float64Array(votes.length);
  let answered = 0;
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i];
    let logq1 = 0;
    let step1: Float64Array | null = null;
    if (params.threshold !== null) {
      const s1 = requireSigma1(params);
      logq1 = computeLogPrAnswered(params.threshold, s1, v);
      if (dataIndependent) {
        step1 = new Float64Array(n);
        for (let k = 0; k < n; k++) step1[k] = rdpDataIndependentThreshold(s1, orders[k]);
      } else {
        step1 = computeRdpThreshold(logq1, s1, orders);
      }
    }
    let step2: Float64Array;
    if (dataIndependent) {
      step2 = new Float64Array(n);
      for (let k = 0; k < n; k++) step2[k] = rdpDataIndependentGaussian(params.sigma2, orders[k]);
    } else {
      step2 = rdpGaussian(computeLogqGaussian(v, params.sigma2), params.sigma2, orders);
    }
    const q1 = Math.exp(logq1);
    for (let k = 0; k < n; k++) rdp[k] += (step1 ? step1[k] : 0) + step2[k] * q1;
    answered += q1;
    logPr[i] = logq1;
  }
  return { rdp, expectedAnswered: answered, logPrAnswered: logPr };
}

function requireSigma1(p: ConfidentGnmaxParams): number {
  if (p.sigma1 === null) throw new RangeError('sigma1: required when threshold is set');
  return p.sigma1;
}

export interface SmoothSensitivityPlan {
  readonly orderOpt: number;
  readonly dataIndependentStep1: boolean;
  readonly dataIndependentStep2: boolean;
  readonly betaOpt: number;
  readonly smoothSensitivityOpt: number;
  readonly sigmaSsOpt: number;
  readonly rdpCumulativeAtOrder: number;
  readonly expectedAnswered: number;
  /** How RDP at λ was turned into (ε, δ): 'basic' log(1/δ)/(λ−1), as the PATE 2018 code; or 'improved'. */
  readonly conversion: 'basic' | 'improved';
  /** rdp(λ) + the conversion's cost of δ at λ: the data-dependent ε before sanitisation. */
  readonly epsBeforeSs: number;
  /** epsBeforeSs + RDP of the smooth-sensitivity release: the ε that covers publishing the ε. */
  readonly epsWithSs: number;
}

/**
 * Scalable PATE §B / smooth_sensitivity_table.main (minus the symbolic C5–C6 check): choose the
 * order from the data-dependent RDP, then, at that order, accumulate the expected local
 * sensitivity over the queries and pick β on `betas` (default np.arange(.3/λ, .495/λ, .01/λ))
 * minimising rdp + RDP(GNSS) + 2·S_β·σ_ss. The returned parameters are themselves computed from
 * the private votes: only the sanitised release (value + S_β N(0, σ_ss²)) may be published.
 */
export function planSmoothSensitivityRelease(input: {
  votes: ReadonlyArray<ArrayLike<number>>;
  numTeachers: number;
  params: ConfidentGnmaxParams;
  delta: number;
  orders: ArrayLike<number>;
  betas?: ArrayLike<number>;
  /**
   * The realised outcome of the threshold step, one flag per query. When given, the GNMax step
   * counts only on the answered queries (weight 1 or 0) instead of Pr[answered]: the cost of the
   * run that actually happened rather than its expectation. The flags were released by the
   * threshold step (already paid for), so conditioning on them is adaptive composition; the local
   * sensitivity of the realised sum is bounded by the same per-query sum with these weights.
   */
  answered?: ReadonlyArray<boolean>;
  /**
   * RDP → (ε, δ) at the chosen order: 'basic' (default; ε = rdp + log(1/δ)/(λ−1), as the PATE 2018
   * analysis code and its test vectors), or 'improved' (Canonne–Kamath–Steinke 2020 Prop. 12,
   * ε = rdp + log((λ−1)/λ) − (log δ + log λ)/(λ−1), the conversion the ledger uses). Either is a
   * valid conversion of the same RDP bound; 'improved' is never larger for λ ≥ 2.
   */
  conversion?: 'basic' | 'improved';
}): SmoothSensitivityPlan {
  const { votes, numTeachers, params, delta, orders, answered } = input;
  if (answered !== undefined && answered.length !== votes.length) throw new RangeError('answered must have one flag per query');
  const rdp =
    answered === undefined
      ? computeConfidentGnmaxRdp(votes, params, orders, false).rdp
      : realisedConfidentRdp(votes, params, orders, answered);
  const conversion = input.conversion ?? 'basic';
  const order = (conversion === 'basic' ? epsilonFromRdpBasic(orders, rdp, delta) : epsilonFromRdp(orders, rdp, delta)).optimalOrder;
  if (!(order > 1)) throw new RangeError(`no order above 1 gives a finite ε (got order ${order})`);
  const numClasses = votes[0].length;
  const ind1 =
    params.threshold === null ? true : isDataIndependentAlwaysOptThreshold(numTeachers, params.threshold, requireSigma1(params), [order]);
  const ind2 = isDataIndependentAlwaysOptGaussian(numTeachers, numClasses, params.sigma2, [order]).every((x) => x);
  const betas = input.betas ?? defaultBetas(order);
  const costDelta =
    conversion === 'basic' ? Math.log(1 / delta) / (order - 1) : Math.log1p(-1 / order) - (Math.log(delta) + Math.log(order)) / (order - 1);

  let rdpCum = 0;
  let answeredCum = 0;
  const lsCum = new Float64Array(numTeachers);
  for (let i = 0; i < votes.length; i++) {
    const v = votes[i];
    let logPr = 0;
    let rdp1 = 0;
    let ls1: Float64Array | null = null;
    if (params.threshold !== null) {
      const s1 = requireSigma1(params);
      logPr = computeLogPrAnswered(params.threshold, s1, v);
      if (ind1) {
        rdp1 = rdpDataIndependentThreshold(s1, order);
      } else {
        rdp1 = computeRdpThresholdScalar(logPr, s1, order);
        ls1 = localSensitivityBoundsThreshold(v, numTeachers, params.threshold, s1, order);
      }
    }
    const pr = answered === undefined ? Math.exp(logPr) : answered[i] ? 1 : 0;
    answeredCum += pr;
    let rdp2: number;
    let ls2: Float64Array | null = null;
    if (ind2) {
      rdp2 = rdpDataIndependentGaussian(params.sigma2, order);
    } else {
      rdp2 = rdpGaussianScalar(computeLogqGaussian(v, params.sigma2), params.sigma2, order);
      ls2 = localSensitivityBoundsGnmax(v, numTeachers, params.sigma2, order);
    }
    rdpCum += rdp1 + pr * rdp2;
    for (let d = 0; d < numTeachers; d++) lsCum[d] += (ls1 ? ls1[d] : 0) + pr * (ls2 ? ls2[d] : 0);
  }

  let betaOpt = 0;
  let ssOpt = 0;
  let sigmaSsOpt = Infinity;
  if (!(ind1 && ind2)) {
    let costOpt = Infinity;
    for (let b = 0; b < betas.length; b++) {
      const beta = betas[b];
      const ss = computeDiscountedMax(beta, lsCum);
      const sigmaSs = optimalSigmaSs(beta, ss, order);
      const costSs = rdpOfSmoothSensitivityGaussian(beta, sigmaSs, order);
      const cost = rdpCum + costSs + 2 * ss * sigmaSs;
      if (cost < costOpt) {
        costOpt = cost;
        betaOpt = beta;
        ssOpt = ss;
        sigmaSsOpt = sigmaSs;
      }
    }
  }
  const epsBeforeSs = rdpCum + costDelta;
  const epsWithSs = epsBeforeSs + rdpOfSmoothSensitivityGaussian(betaOpt, sigmaSsOpt, order);
  return {
    conversion,
    orderOpt: order,
    dataIndependentStep1: ind1,
    dataIndependentStep2: ind2,
    betaOpt,
    smoothSensitivityOpt: ssOpt,
    sigmaSsOpt,
    rdpCumulativeAtOrder: rdpCum,
    expectedAnswered: answeredCum,
    epsBeforeSs,
    epsWithSs,
  };
}

/** Data-dependent RDP of a realised Confident-GNMax run: the threshold step on every query, GNMax on the answered ones. */
function realisedConfidentRdp(
  votes: ReadonlyArray<ArrayLike<number>>,
  params: ConfidentGnmaxParams,
  orders: ArrayLike<number>,
  answered: ReadonlyArray<boolean>,
): Float64Array {
  const rdp = new Float64Array(orders.length);
  for (let i = 0; i < votes.length; i++) {
    if (params.threshold !== null) {
      const r1 = computeRdpThreshold(
        computeLogPrAnswered(params.threshold, requireSigma1(params), votes[i]),
        requireSigma1(params),
        orders,
      );
      for (let k = 0; k < rdp.length; k++) rdp[k] += r1[k];
    }
    if (answered[i]) {
      const r2 = rdpGaussian(computeLogqGaussian(votes[i], params.sigma2), params.sigma2, orders);
      for (let k = 0; k < rdp.length; k++) rdp[k] += r2[k];
    }
  }
  return rdp;
}

/**
 * The publishable data-dependent ε of a plan (Scalable PATE §B, GNSS): the RDP at the plan's
 * order plus S_β·σ_ss·z, where z ~ N(0, 1) is drawn by the caller from a CSPRNG (this library has
 * no randomness), plus log(1/δ)/(λ−1) and the RDP of the release itself. The noisy RDP is
 * clamped at 0 (post-processing). When the data-independent bound is always
 * optimal (S_β = 0) nothing data-dependent is left to hide and the figure is exact.
 */
export function sanitizedEpsilon(plan: SmoothSensitivityPlan, z: number): number {
  const costDelta = plan.epsBeforeSs - plan.rdpCumulativeAtOrder;
  if (plan.smoothSensitivityOpt === 0 || !Number.isFinite(plan.sigmaSsOpt)) return plan.epsBeforeSs;
  const released = Math.max(0, plan.rdpCumulativeAtOrder + plan.smoothSensitivityOpt * plan.sigmaSsOpt * z);
  return released + costDelta + rdpOfSmoothSensitivityGaussian(plan.betaOpt, plan.sigmaSsOpt, plan.orderOpt);
}

/** np.arange(.3/λ, .495/λ, .01/λ). */
export function defaultBetas(order: number): number[] {
  const start = 0.3 / order;
  const stop = 0.495 / order;
  const step = 0.01 / order;
  const n = Math.ceil((stop - start) / step);
  return Array.from({ length: n }, (_, i) => start + i * step);
}
