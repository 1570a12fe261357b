import { checkFits, confidentGnmaxEvent, type DpEvent, gaussianSoftLabelsEvent, gnmaxEvent } from '@concord/privacy';
import type { MechanismSpec } from '@concord/protocol';
import type { LocalCap } from '../store/config';
import { LOCAL_ORDERS, type LocalPrivacyLedger } from '../store/privacy-ledger';

/**
 * The data-independent cost of answering one batch of `queries` queries under the job's mechanism,
 * computed by the agent itself. Confident-GNMax is charged as if every query passed the threshold:
 * the agent cannot know in advance how many will, and must not trust the coordinator to say.
 */
export function batchCostEvent(mechanism: MechanismSpec, queries: number): DpEvent {
  switch (mechanism.kind) {
    case 'gnmax':
      return gnmaxEvent(mechanism.sigma, queries);
    case 'confident_gnmax':
      return confidentGnmaxEvent({
        threshold: mechanism.threshold,
        sigma1: mechanism.sigma1,
        sigma2: mechanism.sigma2,
        queries,
        answered: queries,
      });
    case 'gaussian_soft_labels':
      return gaussianSoftLabelsEvent(mechanism.sigma, mechanism.clipNorm, queries);
  }
}

export interface CapDecision {
  fits: boolean;
  event: DpEvent;
  rdp: number[];
  epsilonBefore: number;
  epsilonAfter: number;
  cap: LocalCap;
}

/**
 * Would answering this batch keep the local ledger within the local cap at the local δ? Exact
 * (analytic Gaussian) conversion while the ledger holds only Gaussian compositions, as the
 * coordinator's budgets (see LocalPrivacyLedger).
 */
export function decideAgainstCap(ledger: LocalPrivacyLedger, cap: LocalCap, mechanism: MechanismSpec, queries: number): CapDecision {
  const event = batchCostEvent(mechanism, queries);
  const fit = checkFits(
    ledger.runningRdp,
    LOCAL_ORDERS,
    { epsilon: cap.epsilon, delta: cap.delta },
    event,
    'data_independent',
    ledger.conversionWith(event),
  );
  return {
    fits: fit.fits,
    event,
    rdp: Array.from(fit.candidateRdp),
    epsilonBefore: ledger.epsilonSpent(cap.delta),
    epsilonAfter: fit.epsilonAfter,
    cap,
  };
}
