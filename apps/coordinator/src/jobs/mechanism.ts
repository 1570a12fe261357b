import { confidentGnmaxEvent, type DpEvent, gaussianSoftLabelsEvent, gnmaxEvent } from '@concord/privacy';
import { teacherOutputProblem } from '@concord/protocol';
import { type FieldProblem, InvalidInputException } from '../common/problem';
import type { Mechanism } from './entities/job.entity';

const MAX_SIGMA = 1e6;

function positive(value: unknown, field: string, errors: FieldProblem[], max = MAX_SIGMA): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    errors.push({ field, message: `must be a number in (0, ${max}]` });
    return NaN;
  }
  return value;
}

/** Parses a job's mechanism from untrusted JSON; every bad field is named. */
export function parseMechanism(value: unknown): Mechanism {
  const errors: FieldProblem[] = [];
  const m = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const allowed: Record<string, string[]> = {
    gnmax: ['kind', 'sigma'],
    confident_gnmax: ['kind', 'threshold', 'sigma1', 'sigma2'],
    gaussian_soft_labels: ['kind', 'sigma', 'clipNorm', 'teacherOutput'],
  };
  const kind = m.kind;
  if (typeof kind !== 'string' || !(kind in allowed)) {
    throw new InvalidInputException([{ field: 'body.mechanism.kind', message: 'must be gnmax, confident_gnmax or gaussian_soft_labels' }]);
  }
  for (const key of Object.keys(m))
    if (!allowed[kind].includes(key)) errors.push({ field: `body.mechanism.${key}`, message: `is not a parameter of ${kind}` });
  let mechanism: Mechanism;
  if (kind === 'gnmax') mechanism = { kind, sigma: positive(m.sigma, 'body.mechanism.sigma', errors) };
  else if (kind === 'confident_gnmax') {
    mechanism = {
      kind,
      threshold: positive(m.threshold, 'body.mechanism.threshold', errors, 1e9),
      sigma1: positive(m.sigma1, 'body.mechanism.sigma1', errors),
      sigma2: positive(m.sigma2, 'body.mechanism.sigma2', errors),
    };
  } else {
    mechanism = {
      kind: 'gaussian_soft_labels',
      sigma: positive(m.sigma, 'body.mechanism.sigma', errors),
      clipNorm: positive(m.clipNorm, 'body.mechanism.clipNorm', errors, 1e3),
    };
    const problem = teacherOutputProblem(m.teacherOutput, m.clipNorm);
    if (problem !== null) errors.push({ field: `body.mechanism.${problem.field}`, message: problem.message });
    else if (m.teacherOutput !== undefined) mechanism.teacherOutput = m.teacherOutput as 'probabilities' | 'votes';
  }
  if (errors.length) throw new InvalidInputException(errors);
  return mechanism;
}

/**
 * The DP event of one released batch: `queries` queries, of which `answered` passed the threshold
 * (Confident-GNMax). The number answered is itself the output of the threshold step, already paid
 * for by it, so conditioning the GNMax cost on it is adaptive composition, not a leak.
 */
export function batchEvent(mechanism: Mechanism, queries: number, answered: number): DpEvent {
  switch (mechanism.kind) {
    case 'gnmax':
      return gnmaxEvent(mechanism.sigma, queries);
    case 'confident_gnmax':
      return confidentGnmaxEvent({ threshold: mechanism.threshold, sigma1: mechanism.sigma1, sigma2: mechanism.sigma2, queries, answered });
    case 'gaussian_soft_labels':
      return gaussianSoftLabelsEvent(mechanism.sigma, mechanism.clipNorm, queries);
  }
}

/** The most a whole job can cost: every query asked and (Confident-GNMax) answered. */
export function worstCaseEvent(mechanism: Mechanism, queries: number): DpEvent {
  return batchEvent(mechanism, queries, queries);
}
