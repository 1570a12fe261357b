/**
 * Turning k teachers' outputs into ONE institution-level row per query — the only thing about the
 * teachers that leaves the site. Per-teacher outputs are consumed here and dropped.
 */

/** Teachers' class probabilities: [teacher][example][class]. */
export type TeacherOutputs = number[][][];

export class TeacherOutputError extends Error {
  override readonly name = 'TeacherOutputError';
}

/** Index of the largest entry; ties go to the lowest index, as numpy.argmax. */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Scales `p` to L2 norm ≤ clipNorm (unchanged when already within). */
export function clipL2(p: readonly number[], clipNorm: number): number[] {
  const norm = Math.sqrt(p.reduce((s, v) => s + v * v, 0));
  const scale = norm > clipNorm ? clipNorm / norm : 1;
  return p.map((v) => v * scale);
}

/** Checks the provider's answer: k ≥ 1 teachers, one vector per example, one finite non-negative number per class. */
export function checkTeacherOutputs(outputs: unknown, examples: number, classes: number): TeacherOutputs {
  if (!Array.isArray(outputs) || outputs.length === 0)
    throw new TeacherOutputError('teachers: expected a non-empty array, one entry per teacher');
  outputs.forEach((perTeacher: unknown, t) => {
    if (!Array.isArray(perTeacher) || perTeacher.length !== examples) {
      throw new TeacherOutputError(`teacher ${t}: expected ${examples} probability vectors, one per query`);
    }
    perTeacher.forEach((p: unknown, i) => {
      if (!Array.isArray(p) || p.length !== classes)
        throw new TeacherOutputError(`teacher ${t}, query ${i}: expected ${classes} class probabilities`);
      if (!p.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new TeacherOutputError(`teacher ${t}, query ${i}: probabilities must be finite and non-negative`);
      }
    });
  });
  return outputs as TeacherOutputs;
}

/** GNMax / Confident-GNMax: per query, the histogram of the k teachers' argmax votes (integers summing to k). */
export function voteHistograms(outputs: TeacherOutputs, classes: number): number[][] {
  const examples = outputs[0].length;
  const rows = Array.from({ length: examples }, () => new Array<number>(classes).fill(0));
  for (const perTeacher of outputs) for (let i = 0; i < examples; i++) rows[i][argmax(perTeacher[i])] += 1;
  return rows;
}

/** Gaussian soft labels: per query, the sum of the k teachers' probability vectors, each clipped to L2 norm ≤ clipNorm. */
export function clippedProbabilitySums(outputs: TeacherOutputs, classes: number, clipNorm: number): number[][] {
  const examples = outputs[0].length;
  const rows = Array.from({ length: examples }, () => new Array<number>(classes).fill(0));
  for (const perTeacher of outputs) {
    for (let i = 0; i < examples; i++) {
      const clipped = clipL2(perTeacher[i], clipNorm);
      for (let c = 0; c < classes; c++) rows[i][c] += clipped[c];
    }
  }
  return rows;
}
