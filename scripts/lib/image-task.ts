import type { Dataset } from '@concord/ml';

type Api = (method: string, path: string, body?: unknown) => Promise<any>;

/**
 * Creates an image task and uploads its unlabelled public pool and its labelled holdout, 250
 * examples per request (raw pixel values; the task's `scale` normalises them). Returns the task.
 */
export async function createImageTask(
  api: Api,
  task: { name: string; shape: [number, number, number]; scale: number; classes: readonly string[] },
  pool: Dataset,
  holdout: Dataset,
): Promise<{ id: string }> {
  const created = await api('POST', '/tasks', {
    name: task.name,
    inputSpec: { kind: 'image', shape: task.shape, scale: task.scale },
    classes: task.classes,
  });
  const width = task.shape[0] * task.shape[1] * task.shape[2];
  const rows = (d: Dataset, from: number, to: number): number[][] =>
    Array.from({ length: to - from }, (_, i) => Array.from(d.features.subarray((from + i) * width, (from + i + 1) * width)));
  for (let s = 0; s < pool.count; s += 250) {
    await api('POST', `/tasks/${created.id}/pool`, { split: 'public', examples: rows(pool, s, Math.min(pool.count, s + 250)) });
  }
  for (let s = 0; s < holdout.count; s += 250) {
    const to = Math.min(holdout.count, s + 250);
    await api('POST', `/tasks/${created.id}/pool`, {
      split: 'holdout',
      examples: rows(holdout, s, to),
      labels: Array.from(holdout.labels.subarray(s, to)),
    });
  }
  return created;
}
