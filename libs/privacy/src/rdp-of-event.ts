import type { DpEvent } from './events/dp-event';
import { UnsupportedEventError } from './events/errors';
import { addRdpGaussian } from './pate/gnmax';
import { computeRdpThreshold, rdpDataIndependentThreshold } from './pate/threshold';
import { rdpGaussianMechanism, rdpSubsampledGaussian } from './rdp/subsampled-gaussian';

export type AccountingMode = 'data_independent' | 'data_dependent';

/**
 * RDP vector (nats, aligned with `orders`) of one event. `data_dependent` uses the per-query
 * log q / log Pr[answered] an event carries (Scalable PATE Thm 6); events without them, and every
 * other kind, fall back to their data-independent bound, which is always valid.
 */
export function rdpOfEvent(event: DpEvent, orders: ArrayLike<number>, mode: AccountingMode = 'data_independent'): Float64Array {
  const out = new Float64Array(orders.length);
  addRdpOfEvent(out, event, orders, mode, 1);
  return out;
}

/** Adds weight × RDP(event) into acc. */
export function addRdpOfEvent(acc: Float64Array, event: DpEvent, orders: ArrayLike<number>, mode: AccountingMode, weight: number): void {
  const n = orders.length;
  switch (event.kind) {
    case 'no_op':
      return;
    case 'non_private':
      for (let k = 0; k < n; k++) acc[k] = Infinity;
      return;
    case 'unsupported':
      throw new UnsupportedEventError('unsupported', event.description);
    case 'gaussian':
      for (let k = 0; k < n; k++) acc[k] += weight * rdpGaussianMechanism(event.noiseMultiplier, orders[k]);
      return;
    case 'poisson_sampled': {
      const inner = event.event;
      if (inner.kind !== 'gaussian') {
        throw new UnsupportedEventError(`poisson_sampled(${inner.kind})`, 'only a Poisson-sampled Gaussian is supported');
      }
      for (let k = 0; k < n; k++) acc[k] += weight * rdpSubsampledGaussian(event.samplingProbability, inner.noiseMultiplier, orders[k]);
      return;
    }
    case 'self_composed': {
      if (event.count === 0) return;
      // Evaluate the inner event once and scale: k-fold composition adds RDP (Mironov 2017, Prop. 1).
      const inner = rdpOfEvent(event.event, orders, mode);
      for (let k = 0; k < n; k++) acc[k] += weight * event.count * inner[k];
      return;
    }
    case 'composed':
      for (const e of event.events) addRdpOfEvent(acc, e, orders, mode, weight);
      return;
    case 'gnmax': {
      if (mode === 'data_dependent' && event.logq) {
        for (const lq of event.logq) addRdpGaussian(acc, lq, event.sigma, orders, weight);
        return;
      }
      const v = event.sigma * event.sigma;
      for (let k = 0; k < n; k++) acc[k] += weight * event.queries * (orders[k] / v);
      return;
    }
    case 'gnmax_threshold': {
      if (mode === 'data_dependent' && event.logPrAnswered) {
        for (const lp of event.logPrAnswered) {
          const r = computeRdpThreshold(lp, event.sigma, orders);
          for (let k = 0; k < n; k++) acc[k] += weight * r[k];
        }
        return;
      }
      for (let k = 0; k < n; k++) acc[k] += weight * event.queries * rdpDataIndependentThreshold(event.sigma, orders[k]);
      return;
    }
    case 'confident_gnmax': {
      const v2 = event.sigma2 * event.sigma2;
      for (let k = 0; k < n; k++) {
        acc[k] += weight * (event.queries * rdpDataIndependentThreshold(event.sigma1, orders[k]) + event.answered * (orders[k] / v2));
      }
      return;
    }
    case 'gaussian_soft_labels': {
      // One record lives in one teacher, so it can change that teacher's clipped probability
      // vector p into p'. Both are non-negative with ‖·‖₂ ≤ C, hence p·p' ≥ 0 and
      // ‖p - p'‖² = ‖p‖² + ‖p'‖² - 2 p·p' ≤ 2C²: L2 sensitivity √2·C. With noise N(0, σ²I) the
      // Gaussian mechanism has RDP α Δ²/(2σ²) = α C²/σ² per query (Mironov 2017, Prop. 7).
      const c2 = event.clipNorm * event.clipNorm;
      const v = event.sigma * event.sigma;
      for (let k = 0; k < n; k++) acc[k] += weight * event.queries * ((orders[k] * c2) / v);
      return;
    }
    default: {
      const never: never = event;
      throw new UnsupportedEventError(String((never as { kind?: unknown }).kind));
    }
  }
}
