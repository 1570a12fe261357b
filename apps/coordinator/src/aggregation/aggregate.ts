import { type NormalSource, secureStandardNormal } from '@concord/crypto';
import type { Mechanism } from '../jobs/entities/job.entity';
import { confidentGnmax, gnmax, noisySoftLabels, sumHistograms } from './mechanisms';

export interface ReleasedQuery {
  answered: boolean;
  label: number | null;
  soft: number[] | null;
}

export interface BatchAggregate {
  labels: ReleasedQuery[];
  answered: number;
}

/**
 * Sums the institutions' rows per query and applies the job's mechanism to each query with fresh
 * noise. `rowsByInstitution[i][q]` is institution i's histogram (or probability sum) for query q.
 */
export function aggregateBatch(
  mechanism: Mechanism,
  rowsByInstitution: readonly (readonly (readonly number[])[])[],
  normal: NormalSource = secureStandardNormal,
): BatchAggregate {
  if (rowsByInstitution.length === 0) throw new RangeError('at least one institution');
  const queries = rowsByInstitution[0].length;
  if (!rowsByInstitution.every((rows) => rows.length === queries)) throw new RangeError('every institution must answer every query');
  const labels: ReleasedQuery[] = [];
  for (let q = 0; q < queries; q++) {
    const total = sumHistograms(rowsByInstitution.map((rows) => rows[q]));
    switch (mechanism.kind) {
      case 'gnmax':
        labels.push({ answered: true, label: gnmax(total, mechanism.sigma, normal).label, soft: null });
        break;
      case 'confident_gnmax': {
        const a = confidentGnmax(total, mechanism.threshold, mechanism.sigma1, mechanism.sigma2, normal);
        labels.push({ answered: a.answered, label: a.label ?? null, soft: null });
        break;
      }
      case 'gaussian_soft_labels':
        labels.push({ answered: true, label: null, soft: noisySoftLabels(total, mechanism.sigma, normal) });
        break;
    }
  }
  return { labels, answered: labels.filter((l) => l.answered).length };
}
