import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { canTrainConvolutions, selectBackend } from './backend';

/** tfjs-node's install script downloads libtensorflow, so it is absent on offline machines (this one). */
const tfjsNodeInstalled = ((): boolean => {
  try {
    createRequire(__filename).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

describe('selectBackend', () => {
  it('picks tfjs-node when it loads, else wasm, and says why', async () => {
    const selection = await selectBackend();
    if (tfjsNodeInstalled) {
      expect(selection.name).toBe('tensorflow');
    } else {
      expect(selection.name).toBe('wasm');
      expect(selection.reason).toMatch(/@tensorflow\/tfjs-node unavailable/);
    }
    expect(tf.getBackend()).toBe(selection.name);
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
  });

  it('is idempotent: asking again returns the same selection', async () => {
    const first = await selectBackend('auto');
    expect(await selectBackend('auto')).toBe(first);
    expect(await selectBackend(first.name)).toBe(first);
  });

  it('switches to cpu when forced, and back to wasm', async () => {
    const cpu = await selectBackend('cpu');
    expect(cpu).toEqual({ name: 'cpu', reason: 'requested' });
    expect(tf.getBackend()).toBe('cpu');
    expect((await selectBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('honours a forced tensorflow backend only where tfjs-node loads, and otherwise says why', async () => {
    if (tfjsNodeInstalled) expect((await selectBackend('tensorflow')).name).toBe('tensorflow');
    else await expect(selectBackend('tensorflow')).rejects.toThrow(/backend 'tensorflow' requested but @tensorflow\/tfjs-node unavailable/);
  });

  it('knows wasm cannot train convolutions', () => {
    expect(canTrainConvolutions('wasm')).toBe(false);
    expect(canTrainConvolutions('cpu')).toBe(true);
  });
});
