/** The toy task of the job tests: three classes, teachers that agree except on flagged queries. */
export const TOY_CLASSES = ['cat', 'dog', 'bird'];

/** Features of query i: one-hot class i mod 3, then a flag for every 5th query, where teachers split. */
export function toyExample(i: number): number[] {
  return [0, 1, 2].map((c) => (i % 3 === c ? 1 : 0)).concat(i % 5 === 4 ? 1 : 0);
}

/** An institution's vote histogram: its `teachers` agree on the one-hot class, except on flagged queries (4/3/3). */
export function toyHistogram(features: number[], teachers: number): number[] {
  if (features[3] === 1) return [4, 3, 3];
  const row = [0, 0, 0];
  row[features.indexOf(1)] = teachers;
  return row;
}
