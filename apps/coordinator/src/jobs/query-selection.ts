import { InvalidInputException } from '../common/problem';
import type { QuerySelectionDto } from './dto/job.dto';
import type { QuerySelection } from './entities/job.entity';
import type { JobRow } from './jobs.repository';

/** The public pool example asked as pool query `q` (query selection may reorder the pool). */
export function poolExampleOf(job: Pick<JobRow, 'poolOrder'>, q: number): number {
  if (job.poolOrder === null) return q;
  const example = job.poolOrder[q];
  if (example === undefined) throw new Error(`pool query ${q} has no example chosen yet`);
  return example;
}

/**
 * A job's query selection, checked: at least one pool query per round. The first round is the
 * first ⌈queries / rounds⌉ pool examples; later rounds are chosen as the job runs.
 */
export function resolveQuerySelection(
  input: QuerySelectionDto | undefined,
  poolQueries: number,
): { setting: QuerySelection; firstRound: number[] } | null {
  if (input === undefined) return null;
  if (input.rounds > poolQueries) {
    throw new InvalidInputException([{ field: 'body.querySelection.rounds', message: `must not exceed queries (${poolQueries})` }]);
  }
  const setting: QuerySelection = { kind: input.kind, rounds: input.rounds, targetMargin: input.targetMargin ?? 0.5 };
  return { setting, firstRound: Array.from({ length: roundSize(setting, poolQueries) }, (_, i) => i) };
}

/** Pool queries per round of a job with query selection (the last round may be smaller). */
export function roundSize(selection: QuerySelection, poolQueries: number): number {
  return Math.ceil(poolQueries / selection.rounds);
}

/**
 * The `count` candidates whose top-two probability margin is closest to `target`, closest first
 * (ties: the lower row first). `probabilities` is row-major over all rows; `candidates` are the
 * rows that may be chosen.
 */
export function chooseByMargin(
  probabilities: Float32Array,
  classes: number,
  candidates: readonly number[],
  count: number,
  target: number,
): number[] {
  if (!(classes >= 2) || probabilities.length % classes !== 0) throw new RangeError('probabilities must be rows of at least 2 classes');
  const rows = probabilities.length / classes;
  const scored = candidates.map((row) => {
    if (!(row >= 0 && row < rows)) throw new RangeError(`candidate row ${row} is outside [0, ${rows})`);
    let first = -Infinity;
    let second = -Infinity;
    for (let c = 0; c < classes; c++) {
      const p = probabilities[row * classes + c];
      if (p > first) {
        second = first;
        first = p;
      } else if (p > second) second = p;
    }
    return { row, distance: Math.abs(first - second - target) };
  });
  scored.sort((a, b) => a.distance - b.distance || a.row - b.row);
  return scored.slice(0, count).map((s) => s.row);
}
