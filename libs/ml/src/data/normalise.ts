import { type Dataset, DatasetError, featureSize } from './dataset';

/**
 * How raw features become model inputs. Plain data so it can be stored next to a model
 * (model.json userDefinedMetadata) and applied identically by teachers, the student and queries.
 */
export type Normalisation =
  | { readonly kind: 'none' }
  /** x ↦ x / maxValue; for 8-bit images maxValue = 255 gives [0, 1]. */
  | { readonly kind: 'scale'; readonly maxValue: number }
  /** Per feature: x ↦ (x − mean) / std. Fitted with fitStandardisation. */
  | { readonly kind: 'standardise'; readonly mean: readonly number[]; readonly std: readonly number[] };

export function imageScaling(maxValue = 255): Normalisation {
  if (!(maxValue > 0)) throw new DatasetError(`imageScaling: maxValue must be positive, got ${maxValue}`);
  return { kind: 'scale', maxValue };
}

/**
 * Per-feature mean and (population) standard deviation, accumulated in float64. A constant feature
 * gets std 1 so it maps to 0 instead of NaN. Fit it on data you are allowed to look at: a teacher
 * on its own partition, or anyone on the public pool.
 */
export function fitStandardisation(dataset: Dataset): Normalisation {
  const d = featureSize(dataset.shape);
  if (dataset.count === 0) throw new DatasetError('fitStandardisation: empty dataset');
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < dataset.count; i++) {
    for (let j = 0; j < d; j++) mean[j] += dataset.features[i * d + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= dataset.count;
  for (let i = 0; i < dataset.count; i++) {
    for (let j = 0; j < d; j++) {
      const c = dataset.features[i * d + j] - mean[j];
      sq[j] += c * c;
    }
  }
  const std = Array.from(sq, (s) => {
    const v = Math.sqrt(s / dataset.count);
    return v > 1e-12 ? v : 1;
  });
  return { kind: 'standardise', mean: Array.from(mean), std };
}

/** A new dataset with normalised features (labels and shape shared). */
export function normalise(dataset: Dataset, spec: Normalisation): Dataset {
  const d = featureSize(dataset.shape);
  const out = new Float32Array(dataset.features.length);
  switch (spec.kind) {
    case 'none':
      out.set(dataset.features);
      break;
    case 'scale': {
      const inv = 1 / spec.maxValue;
      for (let i = 0; i < out.length; i++) out[i] = dataset.features[i] * inv;
      break;
    }
    case 'standardise': {
      if (spec.mean.length !== d || spec.std.length !== d) {
        throw new DatasetError(`normalise: standardisation has ${spec.mean.length} features, dataset has ${d}`);
      }
      for (let i = 0; i < dataset.count; i++) {
        for (let j = 0; j < d; j++) out[i * d + j] = (dataset.features[i * d + j] - spec.mean[j]) / spec.std[j];
      }
      break;
    }
  }
  return { ...dataset, features: out };
}
