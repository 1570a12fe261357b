import { deltaFromRdp, epsilonFromRdp, epsilonFromRdpBasic } from '../conversion';
import type { EpsilonResult } from '../conversion';
import { DPA_ORDERS } from '../orders';
import { computeLogqGaussian, rdpDataIndependentGaussian, rdpGaussian, rdpGaussianScalar } from '../pate/gnmax';
import { computeLogPrAnswered, computeRdpThreshold, rdpDataIndependentThreshold } from '../pate/threshold';
import { computeRdpSubsampledGaussian } from '../rdp/subsampled-gaussian';
import { computeLogq0Gnmax, computeLogq1Gnmax, localSensitivityBoundsGnmax } from '../smooth-sensitivity/gnmax';
import { planSmoothSensitivityRelease } from '../smooth-sensitivity/pipeline';
import { computeDiscountedMax, optimalSigmaSs, rdpOfSmoothSensitivityGaussian } from '../smooth-sensitivity/release';
import { localSensitivityBoundsThreshold } from '../smooth-sensitivity/threshold';
import { roundHalfEven } from '../special/round';
import { Checker } from './compare';

/** Tolerances, as the vectors README suggests. */
export const TOL = {
  conversion: 1e-12,
  rdpInteger: 1e-8,
  /** Fractional orders against TF Privacy. The README suggests 1e-9; at per-step RDP below ~1e-5 both
   * series are limited by cancellation (A_α ≈ 1), and mpmath quadrature shows both are ~1e-8–1e-7
   * from the exact value there, so the comparison uses the integer-order tolerance. */
  rdpFractional: 1e-8,
  /** Absolute floor per step for fractional orders, times 1/(α-1): TF Privacy stops its series once
   * terms fall below e^-30 ≈ 9.4e-14 in A_α (an absolute rule on A_α ≈ 1), so its per-step RDP
   * carries an absolute error of that size/(α-1); at per-step RDP near 1e-10 (q = 1e-3, σ = 50)
   * that is 1e-5 relative (checked against 50-digit mpmath quadrature: ours is within 2e-7). */
  rdpFractionalAbsPerStep: 1e-13,
  pate: 1e-10,
  localSensitivityRel: 1e-6,
  localSensitivityAbs: 1e-15,
} as const;

export type Json = Record<string, unknown>;

export interface CaseOutcome {
  readonly computed: Json;
  readonly checker: Checker;
  readonly notes?: string[];
}

export interface Handler {
  readonly name: string;
  /** Counted in the pass/fail totals (the PLD file is reported, not counted). */
  readonly counted: boolean;
  run(inputs: Json, expected: Json): CaseOutcome;
}

const num = (x: unknown): number => x as number;
const nums = (x: unknown): number[] => x as number[];
const matrix = (x: unknown): number[][] => x as number[][];

/** ε the basic conversion gives at one given order. */
function basicAt(orders: ArrayLike<number>, rdp: ArrayLike<number>, delta: number, order: number): number | undefined {
  for (let k = 0; k < orders.length; k++) if (orders[k] === order) return rdp[k] - Math.log(delta) / (orders[k] - 1);
  return undefined;
}

/** ε the improved conversion gives at one given order. */
function improvedAt(orders: ArrayLike<number>, rdp: ArrayLike<number>, delta: number, order: number): number | undefined {
  for (let k = 0; k < orders.length; k++) {
    if (orders[k] !== order) continue;
    return epsilonFromRdp([orders[k]], [rdp[k]], delta).epsilon;
  }
  return undefined;
}

/**
 * A: Poisson-subsampled Gaussian on dp_accounting or TF Privacy orders.
 * Checks (1) our RDP against the reference; (2) our conversions applied to the REFERENCE RDP
 * (1e-12, same optimal order) — this isolates the conversion; (3) end to end, our ε/δ from our
 * own RDP. Where the reference is dp_accounting at fractional orders with q < 1, its |binom|
 * series is a looser bound than the exact series we compute: there our RDP must be ≤ the
 * reference's (Infinity = not converged), and end-to-end ε/δ must be ≤ the reference's; the
 * optimal order is not compared end to end because a tighter RDP legitimately moves it.
 */
function gaussianRdp(kind: 'dpa' | 'tfp'): Handler {
  return {
    name: kind === 'dpa' ? 'gaussian_rdp_dp_accounting' : 'gaussian_rdp_tf_privacy',
    counted: true,
    run(inputs, expected) {
      const c = new Checker();
      const q = num(inputs.q);
      const z = num(inputs.noise_multiplier);
      const steps = num(inputs.steps);
      const orders = nums(inputs.orders);
      const deltas = nums(inputs.deltas);
      const targetEps = nums(inputs.target_eps);
      const kl = { klInclusive: kind === 'tfp' };
      const rdp = computeRdpSubsampledGaussian(q, z, steps, orders);
      const loose = kind === 'dpa' && q < 1 && q > 0;
      const expRdp = expected.rdp === undefined ? undefined : nums(expected.rdp);

      let tight = true; // our RDP equals the reference's within tolerance at every order
      if (expRdp) {
        for (let k = 0; k < orders.length; k++) {
          const frac = !Number.isInteger(orders[k]);
          if (frac && loose) {
            c.notLarger(`rdp[${k}] (α=${orders[k]}, exact series vs |binom| bound)`, rdp[k], expRdp[k], TOL.rdpFractional);
            if (!(Math.abs(rdp[k] - expRdp[k]) <= TOL.rdpFractional * Math.abs(expRdp[k]))) tight = false;
          } else {
            const atol = frac ? (steps * TOL.rdpFractionalAbsPerStep) / (orders[k] - 1) : 0;
            c.close(`rdp[${k}] (α=${orders[k]})`, rdp[k], expRdp[k], frac ? TOL.rdpFractional : TOL.rdpInteger, atol);
          }
        }
      }

      const eps = deltas.map((d) => epsilonFromRdp(orders, rdp, d, kl));
      const dels = targetEps.map((e) => deltaFromRdp(orders, rdp, e));
      const basic = deltas.map((d) => epsilonFromRdpBasic(orders, rdp, d));
      const endTol = TOL.rdpInteger;

      deltas.forEach((d, i) => {
        // (2) conversion on the reference RDP
        if (expRdp) {
          if (expected.epsilon !== undefined) {
            const r = epsilonFromRdp(orders, expRdp, d, kl);
            c.close(`epsilon[${i}] from reference rdp`, r.epsilon, nums(expected.epsilon)[i], TOL.conversion);
            if (expected.optimal_order !== undefined)
              c.exact(`optimal_order[${i}] from reference rdp`, r.optimalOrder, nums(expected.optimal_order)[i]);
          }
          if (expected.epsilon_basic !== undefined) {
            const r = epsilonFromRdpBasic(orders, expRdp, d);
            c.close(`epsilon_basic[${i}] from reference rdp`, r.epsilon, nums(expected.epsilon_basic)[i], TOL.conversion);
            if (expected.optimal_order_basic !== undefined)
              c.exact(`optimal_order_basic[${i}] from reference rdp`, r.optimalOrder, nums(expected.optimal_order_basic)[i]);
          }
        }
        // (3) end to end
        if (expected.epsilon !== undefined)
          endToEnd(
            c,
            `epsilon[${i}]`,
            eps[i],
            nums(expected.epsilon)[i],
            expected.optimal_order ? nums(expected.optimal_order)[i] : undefined,
            tight,
            endTol,
            (o) => improvedAt(orders, rdp, d, o),
          );
        if (expected.epsilon_basic !== undefined)
          endToEnd(
            c,
            `epsilon_basic[${i}]`,
            basic[i],
            nums(expected.epsilon_basic)[i],
            expected.optimal_order_basic ? nums(expected.optimal_order_basic)[i] : undefined,
            tight,
            endTol,
            (o) => basicAt(orders, rdp, d, o),
          );
      });
      targetEps.forEach((e, i) => {
        if (expected.delta === undefined) return;
        if (expRdp) {
          const r = deltaFromRdp(orders, expRdp, e);
          c.close(`delta[${i}] from reference rdp`, r.delta, nums(expected.delta)[i], TOL.conversion);
          if (expected.delta_optimal_order !== undefined)
            c.exact(`delta_optimal_order[${i}] from reference rdp`, r.optimalOrder, nums(expected.delta_optimal_order)[i]);
        }
        // δ is exponential in RDP: (α-1)·Δrdp is the log-δ error, so compare log δ.
        const ours = dels[i].delta;
        const ref = nums(expected.delta)[i];
        if (tight) c.close(`log delta[${i}] end to end`, Math.log(ours), Math.log(ref), endTol, endTol);
        else c.notLarger(`delta[${i}] end to end (tighter RDP)`, ours, ref, endTol);
      });

      const computed: Json = {
        rdp,
        epsilon: eps.map((r) => r.epsilon),
        optimal_order: eps.map((r) => r.optimalOrder),
        delta: dels.map((r) => r.delta),
        delta_optimal_order: dels.map((r) => r.optimalOrder),
        epsilon_basic: basic.map((r) => r.epsilon),
        optimal_order_basic: basic.map((r) => r.optimalOrder),
      };
      if (kind === 'dpa') computed.nonconverged_orders = Array.from(rdp).filter((x) => x === Infinity).length;
      return { computed, checker: c };
    },
  };
}

function endToEnd(
  c: Checker,
  field: string,
  ours: EpsilonResult,
  refEps: number,
  refOrder: number | undefined,
  tight: boolean,
  tol: number,
  epsAtOrder: (order: number) => number | undefined,
): void {
  if (!tight) {
    c.notLarger(`${field} end to end (tighter RDP)`, ours.epsilon, refEps, tol);
    return;
  }
  c.close(`${field} end to end`, ours.epsilon, refEps, tol);
  if (refOrder !== undefined)
    c.order(`${field} optimal order end to end`, ours.optimalOrder, refOrder, epsAtOrder(refOrder), ours.epsilon, tol);
}

/** Comparison only: our RDP ε (DPA orders, improved conversion) next to the PLD reference. */
const gaussianPld: Handler = {
  name: 'gaussian_pld_dp_accounting',
  counted: false,
  run(inputs, expected) {
    const c = new Checker();
    const q = num(inputs.q);
    const rdp = computeRdpSubsampledGaussian(q, num(inputs.noise_multiplier), num(inputs.steps), DPA_ORDERS);
    const eps = nums(inputs.deltas).map((d) => epsilonFromRdp(DPA_ORDERS, rdp, d).epsilon);
    const ref = expected.epsilon === undefined ? [] : nums(expected.epsilon);
    const notes = eps.map((e, i) => `rdp/pld = ${(e / ref[i]).toFixed(3)}`);
    return { computed: { epsilon: eps, method: 'rdp_improved_dpa_orders' }, checker: c, notes };
  },
};

/** B: single GNMax query: log q (Prop. 7), data-dependent (Thm 6) and data-independent RDP. */
const gnmaxSingle: Handler = {
  name: 'pate_gnmax_single',
  counted: true,
  run(inputs) {
    return runGnmaxSingle(inputs);
  },
};

function runGnmaxSingle(inputs: Json): CaseOutcome {
  const c = new Checker();
  const sigma = num(inputs.sigma);
  const orders = nums(inputs.orders);
  const logq = computeLogqGaussian(nums(inputs.votes), sigma);
  const dd = rdpGaussian(logq, sigma, orders);
  const di = Float64Array.from(orders, (a) => rdpDataIndependentGaussian(sigma, a));
  return { computed: { logq, rdp_data_dependent: dd, rdp_data_independent: di }, checker: c };
}

function checkFields(c: Checker, computed: Json, expected: Json, spec: Record<string, number | 'exact'>): void {
  for (const [field, tol] of Object.entries(spec)) {
    const e = expected[field];
    const a = computed[field];
    if (e === undefined) continue;
    if (tol === 'exact') {
      if (Array.isArray(e)) (e as unknown[]).forEach((x, i) => c.exact(`${field}[${i}]`, (a as ArrayLike<unknown>)[i], x));
      else c.exact(field, a, e);
    } else if (Array.isArray(e)) {
      if (Array.isArray(e[0]))
        (e as number[][]).forEach((row, i) => c.closeArray(`${field}[${i}]`, (a as ArrayLike<number>[])[i], row, tol));
      else c.closeArray(field, a as ArrayLike<number>, e as number[], tol);
    } else {
      c.close(field, a as number, e as number, tol);
    }
  }
}

function withChecks(h: Handler, spec: Record<string, number | 'exact'>): Handler {
  return {
    ...h,
    run(inputs, expected) {
      const out = h.run(inputs, expected);
      checkFields(out.checker, out.computed, expected, spec);
      return out;
    },
  };
}

/** B: GNMax query sequences, chained as rdp_cumulative.py. */
const gnmaxCumulative: Handler = {
  name: 'pate_gnmax_cumulative',
  counted: true,
  run(inputs, expected) {
    const c = new Checker();
    const votes = matrix(inputs.votes);
    const sigma = num(inputs.sigma);
    const orders = nums(inputs.orders);
    const deltas = nums(inputs.deltas);
    const n = orders.length;
    const rdp = new Float64Array(n);
    const logqs: number[] = [];
    const epsPer: number[][] = deltas.map(() => []);
    const ordPer: number[][] = deltas.map(() => []);
    const expEps = expected.epsilon_per_query as number[][] | undefined;
    const expOrd = expected.optimal_order_per_query as number[][] | undefined;
    for (let i = 0; i < votes.length; i++) {
      const lq = computeLogqGaussian(votes[i], sigma);
      logqs.push(lq);
      const r = rdpGaussian(lq, sigma, orders);
      for (let k = 0; k < n; k++) rdp[k] += r[k];
      deltas.forEach((d, j) => {
        const e = epsilonFromRdpBasic(orders, rdp, d);
        epsPer[j].push(e.epsilon);
        ordPer[j].push(e.optimalOrder);
        if (expEps && expOrd) {
          c.close(`epsilon_per_query[${j}][${i}]`, e.epsilon, expEps[j][i], TOL.pate);
          c.order(
            `optimal_order_per_query[${j}][${i}]`,
            e.optimalOrder,
            expOrd[j][i],
            basicAt(orders, rdp, d, expOrd[j][i]),
            e.epsilon,
            TOL.pate,
          );
        }
      });
    }
    const di = Float64Array.from(orders, (a) => votes.length * rdpDataIndependentGaussian(sigma, a));
    const fin = deltas.map((d) => epsilonFromRdpBasic(orders, rdp, d));
    const dif = deltas.map((d) => epsilonFromRdpBasic(orders, di, d));
    const imp = deltas.map((d) => epsilonFromRdp(orders, rdp, d));
    if (expected.logq) c.closeArray('logq', logqs, nums(expected.logq), TOL.pate);
    if (expected.rdp_cumulative_final) c.closeArray('rdp_cumulative_final', rdp, nums(expected.rdp_cumulative_final), TOL.pate);
    const ref = expected.rdp_cumulative_final ? nums(expected.rdp_cumulative_final) : undefined;
    deltas.forEach((d, j) => {
      pair(c, `epsilon_final[${j}]`, fin[j], expected.epsilon_final, expected.optimal_order_final, j, (o) => basicAt(orders, rdp, d, o));
      pair(
        c,
        `epsilon_data_independent_final[${j}]`,
        dif[j],
        expected.epsilon_data_independent_final,
        expected.optimal_order_data_independent_final,
        j,
        (o) => basicAt(orders, di, d, o),
      );
      pair(c, `epsilon_improved_final[${j}]`, imp[j], expected.epsilon_improved_final, expected.optimal_order_improved_final, j, (o) =>
        improvedAt(orders, rdp, d, o),
      );
      if (ref && expected.epsilon_improved_final) {
        const r = epsilonFromRdp(orders, ref, d);
        c.close(`epsilon_improved_final[${j}] from reference rdp`, r.epsilon, nums(expected.epsilon_improved_final)[j], TOL.conversion);
        c.exact(`optimal_order_improved_final[${j}] from reference rdp`, r.optimalOrder, nums(expected.optimal_order_improved_final)[j]);
      }
      if (ref && expected.epsilon_final) {
        const r = epsilonFromRdpBasic(orders, ref, d);
        c.close(`epsilon_final[${j}] from reference rdp`, r.epsilon, nums(expected.epsilon_final)[j], TOL.conversion);
        c.exact(`optimal_order_final[${j}] from reference rdp`, r.optimalOrder, nums(expected.optimal_order_final)[j]);
      }
    });
    return {
      computed: {
        logq: logqs,
        epsilon_per_query: epsPer,
        optimal_order_per_query: ordPer,
        rdp_cumulative_final: rdp,
        epsilon_final: fin.map((r) => r.epsilon),
        optimal_order_final: fin.map((r) => r.optimalOrder),
        epsilon_data_independent_final: dif.map((r) => r.epsilon),
        optimal_order_data_independent_final: dif.map((r) => r.optimalOrder),
        epsilon_improved_final: imp.map((r) => r.epsilon),
        optimal_order_improved_final: imp.map((r) => r.optimalOrder),
      },
      checker: c,
    };
  },
};

function pair(
  c: Checker,
  field: string,
  ours: EpsilonResult,
  expEps: unknown,
  expOrd: unknown,
  j: number | undefined,
  epsAt: (o: number) => number | undefined,
): void {
  if (expEps === undefined) return;
  const e = j === undefined ? num(expEps) : nums(expEps)[j];
  c.close(field, ours.epsilon, e, TOL.pate);
  if (expOrd !== undefined) {
    const o = j === undefined ? num(expOrd) : nums(expOrd)[j];
    c.order(`${field} optimal order`, ours.optimalOrder, o, epsAt(o), ours.epsilon, TOL.pate);
  }
}

/** C: one Confident-GNMax query. */
const confidentSingle: Handler = withChecks(
  {
    name: 'confident_gnmax_single',
    counted: true,
    run(inputs) {
      const c = new Checker();
      const t = num(inputs.threshold);
      const s1 = num(inputs.sigma1);
      const s2 = num(inputs.sigma2);
      const votes = nums(inputs.votes);
      const orders = nums(inputs.orders);
      const logPr = computeLogPrAnswered(t, s1, votes);
      const rdpT = computeRdpThreshold(logPr, s1, orders);
      const rdpTi = Float64Array.from(orders, (a) => rdpDataIndependentThreshold(s1, a));
      const logq = computeLogqGaussian(votes, s2);
      const rdpG = rdpGaussian(logq, s2, orders);
      const rdpGi = Float64Array.from(orders, (a) => rdpDataIndependentGaussian(s2, a));
      const w = Math.exp(logPr);
      const total = Float64Array.from(orders, (_, k) => rdpT[k] + w * rdpG[k]);
      return {
        computed: {
          log_pr_answered: logPr,
          rdp_threshold: rdpT,
          rdp_threshold_data_independent: rdpTi,
          logq_gnmax: logq,
          rdp_gnmax: rdpG,
          rdp_gnmax_data_independent: rdpGi,
          rdp_total: total,
          rounded_max_votes: roundHalfEven(Math.max(...votes)),
        },
        checker: c,
      };
    },
  },
  {
    log_pr_answered: TOL.pate,
    rdp_threshold: TOL.pate,
    rdp_threshold_data_independent: TOL.pate,
    logq_gnmax: TOL.pate,
    rdp_gnmax: TOL.pate,
    rdp_gnmax_data_independent: TOL.pate,
    rdp_total: TOL.pate,
    rounded_max_votes: 'exact',
  },
);

/** C: Confident-GNMax sequences, chained as smooth_sensitivity_table._compute_rdp. */
const confidentCumulative: Handler = {
  name: 'confident_gnmax_cumulative',
  counted: true,
  run(inputs, expected) {
    const c = new Checker();
    const t = num(inputs.threshold);
    const s1 = num(inputs.sigma1);
    const s2 = num(inputs.sigma2);
    const votes = matrix(inputs.votes);
    const orders = nums(inputs.orders);
    const delta = num(inputs.delta);
    const n = orders.length;
    const checkpoints = expected.checkpoints ? nums(expected.checkpoints) : votes.map((_, i) => i + 1);
    const cp = new Set(checkpoints);
    const rdp = new Float64Array(n);
    const rdpI = new Float64Array(n);
    const rdpTi = Float64Array.from(orders, (a) => rdpDataIndependentThreshold(s1, a));
    const rdpGi = Float64Array.from(orders, (a) => rdpDataIndependentGaussian(s2, a));
    const logPrs: number[] = [];
    const out = {
      epsilon: [] as number[],
      optimal_order: [] as number[],
      expected_answered: [] as number[],
      epsilon_data_independent: [] as number[],
      optimal_order_data_independent: [] as number[],
    };
    let answered = 0;
    for (let i = 0; i < votes.length; i++) {
      const lp = computeLogPrAnswered(t, s1, votes[i]);
      logPrs.push(lp);
      const rt = computeRdpThreshold(lp, s1, orders);
      const rg = rdpGaussian(computeLogqGaussian(votes[i], s2), s2, orders);
      const w = Math.exp(lp);
      for (let k = 0; k < n; k++) {
        rdp[k] += rt[k] + rg[k] * w;
        rdpI[k] += rdpTi[k] + rdpGi[k] * w;
      }
      answered += w;
      if (cp.has(i + 1)) {
        const e = epsilonFromRdpBasic(orders, rdp, delta);
        const ei = epsilonFromRdpBasic(orders, rdpI, delta);
        const j = out.epsilon.length;
        out.epsilon.push(e.epsilon);
        out.optimal_order.push(e.optimalOrder);
        out.expected_answered.push(answered);
        out.epsilon_data_independent.push(ei.epsilon);
        out.optimal_order_data_independent.push(ei.optimalOrder);
        if (expected.epsilon)
          pair(c, `epsilon[${j}] (query ${i + 1})`, e, expected.epsilon, expected.optimal_order, j, (o) => basicAt(orders, rdp, delta, o));
        if (expected.epsilon_data_independent)
          pair(
            c,
            `epsilon_data_independent[${j}] (query ${i + 1})`,
            ei,
            expected.epsilon_data_independent,
            expected.optimal_order_data_independent,
            j,
            (o) => basicAt(orders, rdpI, delta, o),
          );
        if (expected.expected_answered) c.close(`expected_answered[${j}]`, answered, nums(expected.expected_answered)[j], TOL.pate);
      }
    }
    const imp = epsilonFromRdp(orders, rdp, delta);
    if (expected.log_pr_answered) c.closeArray('log_pr_answered', logPrs, nums(expected.log_pr_answered), TOL.pate);
    if (expected.rdp_cumulative_final) {
      const ref = nums(expected.rdp_cumulative_final);
      c.closeArray('rdp_cumulative_final', rdp, ref, TOL.pate);
      if (expected.epsilon_improved_final !== undefined) {
        const r = epsilonFromRdp(orders, ref, delta);
        c.close('epsilon_improved_final from reference rdp', r.epsilon, num(expected.epsilon_improved_final), TOL.conversion);
        c.exact('optimal_order_improved_final from reference rdp', r.optimalOrder, num(expected.optimal_order_improved_final));
      }
    }
    pair(c, 'epsilon_improved_final', imp, expected.epsilon_improved_final, expected.optimal_order_improved_final, undefined, (o) =>
      improvedAt(orders, rdp, delta, o),
    );
    return {
      computed: {
        log_pr_answered: logPrs,
        checkpoints,
        ...out,
        rdp_cumulative_final: rdp,
        epsilon_improved_final: imp.epsilon,
        optimal_order_improved_final: imp.optimalOrder,
      },
      checker: c,
    };
  },
};

const LS_TOL = (c: Checker, field: string, a: ArrayLike<number>, e: ArrayLike<number>): void => {
  c.closeArray(field, a, e, TOL.localSensitivityRel, TOL.localSensitivityAbs);
};

/** D: smooth sensitivity of GNMax at one order. */
const ssGnmax: Handler = {
  name: 'smooth_sensitivity_gnmax',
  counted: true,
  run(inputs, expected) {
    const c = new Checker();
    const votes = nums(inputs.votes);
    const T = num(inputs.num_teachers);
    const sigma = num(inputs.sigma);
    const order = num(inputs.order);
    const betas = nums(inputs.betas);
    const sigmaSs = nums(inputs.sigma_ss_values);
    const logq0 = computeLogq0Gnmax(sigma, order);
    const logq1 = computeLogq1Gnmax(sigma, order, votes.length);
    const logq = computeLogqGaussian(votes, sigma);
    const rdpAt = rdpGaussianScalar(logq, sigma, order);
    const ls = localSensitivityBoundsGnmax(votes, T, sigma, order);
    const ss = betas.map((b) => computeDiscountedMax(b, ls));
    const sOpt = betas.map((b, i) => optimalSigmaSs(b, ss[i], order));
    const rOpt = betas.map((b, i) => rdpOfSmoothSensitivityGaussian(b, sOpt[i], order));
    const rVals = betas.map((b) => sigmaSs.map((s) => rdpOfSmoothSensitivityGaussian(b, s, order)));
    const computed: Json = {
      logq0,
      logq1,
      logq,
      rdp_at_logq: rdpAt,
      local_sensitivity: ls,
      smooth_sensitivity: ss,
      sigma_ss_opt: sOpt,
      rdp_ss_release_at_sigma_ss_opt: rOpt,
      rdp_ss_release_at_sigma_ss_values: rVals,
    };
    checkFields(c, computed, expected, {
      logq0: TOL.pate,
      logq1: TOL.pate,
      logq: TOL.pate,
      rdp_at_logq: TOL.pate,
      rdp_ss_release_at_sigma_ss_values: TOL.pate,
    });
    if (expected.local_sensitivity) LS_TOL(c, 'local_sensitivity', ls, nums(expected.local_sensitivity));
    if (expected.smooth_sensitivity) LS_TOL(c, 'smooth_sensitivity', ss, nums(expected.smooth_sensitivity));
    if (expected.sigma_ss_opt) LS_TOL(c, 'sigma_ss_opt', sOpt, nums(expected.sigma_ss_opt));
    if (expected.rdp_ss_release_at_sigma_ss_opt)
      LS_TOL(c, 'rdp_ss_release_at_sigma_ss_opt', rOpt, nums(expected.rdp_ss_release_at_sigma_ss_opt));
    return { computed, checker: c };
  },
};

/** D: smooth sensitivity of the threshold step. */
const ssThreshold: Handler = {
  name: 'smooth_sensitivity_threshold',
  counted: true,
  run(inputs, expected) {
    const c = new Checker();
    const ls = localSensitivityBoundsThreshold(
      nums(inputs.counts),
      num(inputs.num_teachers),
      num(inputs.threshold),
      num(inputs.sigma),
      num(inputs.order),
    );
    const ss = nums(inputs.betas).map((b) => computeDiscountedMax(b, ls));
    if (expected.local_sensitivity) LS_TOL(c, 'local_sensitivity', ls, nums(expected.local_sensitivity));
    if (expected.smooth_sensitivity) LS_TOL(c, 'smooth_sensitivity', ss, nums(expected.smooth_sensitivity));
    return { computed: { local_sensitivity: ls, smooth_sensitivity: ss }, checker: c };
  },
};

/** D: the whole smooth_sensitivity_table pipeline. */
const ssPipeline: Handler = {
  name: 'smooth_sensitivity_pipeline',
  counted: true,
  run(inputs, expected) {
    const c = new Checker();
    const threshold = inputs.threshold === null || inputs.threshold === undefined ? null : num(inputs.threshold);
    const plan = planSmoothSensitivityRelease({
      votes: matrix(inputs.votes),
      numTeachers: num(inputs.num_teachers),
      params: {
        threshold,
        sigma1: inputs.sigma1 === null || inputs.sigma1 === undefined ? null : num(inputs.sigma1),
        sigma2: num(inputs.sigma2),
      },
      delta: num(inputs.delta),
      orders: nums(inputs.orders),
      betas: inputs.betas ? nums(inputs.betas) : undefined,
    });
    const computed: Json = {
      order_opt: plan.orderOpt,
      data_independent_step1: plan.dataIndependentStep1,
      data_independent_step2: plan.dataIndependentStep2,
      beta_opt: plan.betaOpt,
      smooth_sensitivity_opt: plan.smoothSensitivityOpt,
      sigma_ss_opt: plan.sigmaSsOpt,
      rdp_cumulative_at_order: plan.rdpCumulativeAtOrder,
      expected_answered: plan.expectedAnswered,
      eps_before_ss: plan.epsBeforeSs,
      eps_with_ss: plan.epsWithSs,
    };
    checkFields(c, computed, expected, {
      order_opt: 'exact',
      data_independent_step1: 'exact',
      data_independent_step2: 'exact',
      beta_opt: 'exact',
      rdp_cumulative_at_order: TOL.pate,
      expected_answered: TOL.pate,
      eps_before_ss: TOL.pate,
    });
    for (const f of ['smooth_sensitivity_opt', 'sigma_ss_opt', 'eps_with_ss']) {
      if (expected[f] !== undefined) c.close(f, computed[f] as number, num(expected[f]), TOL.localSensitivityRel, TOL.localSensitivityAbs);
    }
    return { computed, checker: c };
  },
};

const gnmaxSingleChecked = withChecks(gnmaxSingle, { logq: TOL.pate, rdp_data_dependent: TOL.pate, rdp_data_independent: TOL.pate });

/** File name first, then the `source` field. */
export function handlerFor(fileName: string, source: string): Handler | undefined {
  const base = fileName.replace(/\.json$/, '');
  const byName: [string, Handler][] = [
    ['gaussian_rdp_dp_accounting', gaussianRdp('dpa')],
    ['gaussian_rdp_tf_privacy', gaussianRdp('tfp')],
    ['gaussian_pld_dp_accounting', gaussianPld],
    ['pate_gnmax_single', gnmaxSingleChecked],
    ['pate_gnmax_cumulative', gnmaxCumulative],
    ['confident_gnmax_single', confidentSingle],
    ['confident_gnmax_cumulative', confidentCumulative],
    ['smooth_sensitivity_gnmax', ssGnmax],
    ['smooth_sensitivity_threshold', ssThreshold],
    ['smooth_sensitivity_pipeline', ssPipeline],
  ];
  for (const [prefix, h] of byName) if (base.startsWith(prefix)) return h;
  const s = source;
  if (s.includes('PLDAccountant')) return gaussianPld;
  if (s.includes('RdpAccountant')) return gaussianRdp('dpa');
  if (s.includes('rdp_accountant.py')) return gaussianRdp('tfp');
  if (s.includes('_find_optimal_smooth_sensitivity_parameters')) return ssPipeline;
  if (s.includes('compute_local_sensitivity_bounds_threshold')) return ssThreshold;
  if (s.includes('compute_logq0_gnmax') || s.includes('compute_local_sensitivity_bounds_gnmax')) return ssGnmax;
  if (s.includes('compute_logpr_answered') && (s.includes('_compute_rdp') || s.includes('chained'))) return confidentCumulative;
  if (s.includes('compute_logpr_answered')) return confidentSingle;
  if (s.includes('rdp_cumulative.py')) return gnmaxCumulative;
  if (s.includes('compute_logq_gaussian')) return gnmaxSingleChecked;
  return undefined;
}
