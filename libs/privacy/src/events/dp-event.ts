/**
 * Privacy events as data (after google/dp_accounting dp_event.py). A ledger entry stores the
 * event that describes one charge; any accountant can re-evaluate a ledger from its events.
 *
 * STABILITY CONTRACT (schema version 1): kinds and fields are never removed, renamed or given a
 * new meaning. A change of meaning is a new kind; a new optional field must default to the old
 * behaviour when absent. DP_EVENT_SCHEMA_VERSION increases only when kinds or optional fields are
 * added, so a reader of version n can read every event written by versions ≤ n.
 *
 * Units: σ is a standard deviation in the units of the released quantity (votes, probability
 * mass); every RDP value derived from these events is in nats.
 */

export const DP_EVENT_SCHEMA_VERSION = 1;

/** Gaussian mechanism with L2 sensitivity 1 and noise standard deviation `noiseMultiplier`. */
export interface GaussianDpEvent {
  readonly kind: 'gaussian';
  readonly noiseMultiplier: number;
}

/** `event` applied to a Poisson subsample (each record kept with probability samplingProbability). */
export interface PoissonSampledDpEvent {
  readonly kind: 'poisson_sampled';
  readonly samplingProbability: number;
  readonly event: DpEvent;
}

/** `event` applied `count` times. */
export interface SelfComposedDpEvent {
  readonly kind: 'self_composed';
  readonly event: DpEvent;
  readonly count: number;
}

/** Sequential composition of several events. */
export interface ComposedDpEvent {
  readonly kind: 'composed';
  readonly events: readonly DpEvent[];
}

/**
 * `queries` GNMax answers (argmax of the vote histogram + N(0, σ²) per class; one record changes
 * one teacher's vote, so the histogram has L2 sensitivity √2). Data-independent cost α/σ² per
 * query. `logq`, when present, holds one upper bound on ln Pr[answer ≠ plurality] per query
 * (Scalable PATE Prop. 7, computed from the votes) and enables the data-dependent bound of
 * Theorem 6; it is itself private and must not be shown unsanitised.
 */
export interface GnmaxDpEvent {
  readonly kind: 'gnmax';
  readonly sigma: number;
  readonly queries: number;
  readonly logq?: readonly number[];
}

/**
 * The threshold step of Confident-GNMax on `queries` queries: max votes + N(0, σ²) compared with
 * `threshold`. Sensitivity 1: data-independent cost α/(2σ²) per query. `logPrAnswered`, when
 * present, holds ln Pr[answered] per query and enables the data-dependent bound.
 */
export interface GnmaxThresholdDpEvent {
  readonly kind: 'gnmax_threshold';
  readonly threshold: number;
  readonly sigma: number;
  readonly queries: number;
  readonly logPrAnswered?: readonly number[];
}

/**
 * One Confident-GNMax batch: the threshold step (σ1) on every one of `queries` queries and GNMax
 * (σ2) on the `answered` ones. Data-independent: queries·α/(2σ1²) + answered·α/σ2².
 */
export interface ConfidentGnmaxDpEvent {
  readonly kind: 'confident_gnmax';
  readonly threshold: number;
  readonly sigma1: number;
  readonly sigma2: number;
  readonly queries: number;
  readonly answered: number;
}

/**
 * Gaussian soft labels: Σ over teachers of L2-clipped (norm ≤ clipNorm), non-negative probability
 * vectors, plus N(0, σ² I), `queries` times. L2 sensitivity √2·clipNorm (one record changes one
 * teacher's vector; see rdpOfEvent), σ in probability-mass units.
 */
export interface GaussianSoftLabelsDpEvent {
  readonly kind: 'gaussian_soft_labels';
  readonly sigma: number;
  readonly clipNorm: number;
  readonly queries: number;
}

/** A release with no privacy guarantee: infinite cost. */
export interface NonPrivateDpEvent {
  readonly kind: 'non_private';
}

/** Touches no private data: zero cost. */
export interface NoOpDpEvent {
  readonly kind: 'no_op';
}

/** A mechanism no accountant here can analyse; accountants refuse it by name. */
export interface UnsupportedDpEvent {
  readonly kind: 'unsupported';
  readonly description?: string;
}

export type DpEvent =
  | GaussianDpEvent
  | PoissonSampledDpEvent
  | SelfComposedDpEvent
  | ComposedDpEvent
  | GnmaxDpEvent
  | GnmaxThresholdDpEvent
  | ConfidentGnmaxDpEvent
  | GaussianSoftLabelsDpEvent
  | NonPrivateDpEvent
  | NoOpDpEvent
  | UnsupportedDpEvent;

export type DpEventKind = DpEvent['kind'];

export const DP_EVENT_KINDS: readonly DpEventKind[] = Object.freeze([
  'gaussian',
  'poisson_sampled',
  'self_composed',
  'composed',
  'gnmax',
  'gnmax_threshold',
  'confident_gnmax',
  'gaussian_soft_labels',
  'non_private',
  'no_op',
  'unsupported',
] as const);

/** The serialised envelope: `{ schemaVersion, event }`. */
export interface DpEventEnvelope {
  readonly schemaVersion: number;
  readonly event: DpEvent;
}

function deepFreeze<T>(x: T): T {
  if (x !== null && typeof x === 'object' && !Object.isFrozen(x)) {
    for (const v of Object.values(x as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(x);
  }
  return x;
}

/** Freezes an event graph so a stored ledger event cannot be altered in memory. */
export function freezeDpEvent<T extends DpEvent>(e: T): T {
  return deepFreeze(e);
}

export const gaussianEvent = (noiseMultiplier: number): GaussianDpEvent => freezeDpEvent({ kind: 'gaussian', noiseMultiplier });
export const poissonSampledEvent = (samplingProbability: number, event: DpEvent): PoissonSampledDpEvent =>
  freezeDpEvent({ kind: 'poisson_sampled', samplingProbability, event });
export const selfComposedEvent = (event: DpEvent, count: number): SelfComposedDpEvent =>
  freezeDpEvent({ kind: 'self_composed', event, count });
export const composedEvent = (events: readonly DpEvent[]): ComposedDpEvent => freezeDpEvent({ kind: 'composed', events: [...events] });
export const gnmaxEvent = (sigma: number, queries: number, logq?: readonly number[]): GnmaxDpEvent =>
  freezeDpEvent(logq ? { kind: 'gnmax', sigma, queries, logq: [...logq] } : { kind: 'gnmax', sigma, queries });
export const gnmaxThresholdEvent = (
  threshold: number,
  sigma: number,
  queries: number,
  logPrAnswered?: readonly number[],
): GnmaxThresholdDpEvent =>
  freezeDpEvent(
    logPrAnswered
      ? { kind: 'gnmax_threshold', threshold, sigma, queries, logPrAnswered: [...logPrAnswered] }
      : { kind: 'gnmax_threshold', threshold, sigma, queries },
  );
export const confidentGnmaxEvent = (p: Omit<ConfidentGnmaxDpEvent, 'kind'>): ConfidentGnmaxDpEvent =>
  freezeDpEvent({ kind: 'confident_gnmax', ...p });
export const gaussianSoftLabelsEvent = (sigma: number, clipNorm: number, queries: number): GaussianSoftLabelsDpEvent =>
  freezeDpEvent({ kind: 'gaussian_soft_labels', sigma, clipNorm, queries });
export const nonPrivateEvent = (): NonPrivateDpEvent => freezeDpEvent({ kind: 'non_private' });
export const noOpEvent = (): NoOpDpEvent => freezeDpEvent({ kind: 'no_op' });
export const unsupportedEvent = (description?: string): UnsupportedDpEvent =>
  freezeDpEvent(description === undefined ? { kind: 'unsupported' } : { kind: 'unsupported', description });

/** JSON form stored in the ledger. */
export function serializeDpEvent(event: DpEvent): string {
  const env: DpEventEnvelope = { schemaVersion: DP_EVENT_SCHEMA_VERSION, event };
  return JSON.stringify(env);
}
