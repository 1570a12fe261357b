import { normLogSf } from '../special/ndtr';
import { roundHalfEven } from '../special/round';
import { computeRdpThresholdScalar } from '../pate/threshold';

const rdpListCache = new Map<string, Float64Array>();

/** RDP of the threshold step for every possible max vote v = 0..numTeachers. */
function rdpListThreshold(numTeachers: number, threshold: number, sigma: number, order: number): Float64Array {
  const key = `${numTeachers}|${threshold}|${sigma}|${order}`;
  const hit = rdpListCache.get(key);
  if (hit) return hit;
  const res = new Float64Array(numTeachers + 1);
  for (let v = 0; v <= numTeachers; v++) {
    res[v] = computeRdpThresholdScalar(normLogSf(threshold - v, sigma), sigma, order);
  }
  rdpListCache.set(key, res);
  return res;
}

/**
 * Local sensitivity at distance d (d = 0..numTeachers-1) of the threshold step's data-dependent
 * RDP (Scalable PATE App. B; smooth_sensitivity.compute_local_sensitivity_bounds_threshold). The
 * RDP depends only on the rounded maximum vote, which moves by at most one per changed teacher,
 * so LS at distance d is the largest one-step change within d of the current maximum. (Upstream
 * relies on Python 2's max(x, None) = x; absent neighbours are simply skipped here.)
 */
export function localSensitivityBoundsThreshold(
  counts: ArrayLike<number>,
  numTeachers: number,
  threshold: number,
  sigma: number,
  order: number,
): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < counts.length; i++) if (counts[i] > m) m = counts[i];
  const curMax = Math.trunc(roundHalfEven(m));
  const rdp = rdpListThreshold(numTeachers, threshold, sigma, order);
  const lsAt = (v: number): number => {
    let best = -Infinity;
    if (v > 0 && v <= numTeachers) best = Math.max(best, Math.abs(rdp[v - 1] - rdp[v]));
    if (v >= 0 && v < numTeachers) best = Math.max(best, Math.abs(rdp[v + 1] - rdp[v]));
    return best;
  };
  const ls = new Float64Array(numTeachers);
  const dMax = Math.min(Math.max(curMax, numTeachers - curMax), numTeachers);
  for (let d = 0; d < dMax; d++) {
    let best = -Infinity;
    if (curMax + d <= numTeachers) best = Math.max(best, lsAt(curMax + d));
    if (curMax - d >= 0) best = Math.max(best, lsAt(curMax - d));
    ls[d] = best === -Infinity ? 0 : best;
  }
  return ls;
}
