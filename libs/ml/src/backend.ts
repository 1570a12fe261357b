import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/**
 * Backend selection, once per process (or worker thread): tfjs keeps one global engine.
 *
 * Order for 'auto': tensorflow (native, `@tensorflow/tfjs-node`, an optional dependency that often
 * cannot install) → wasm (single-threaded in Node; no convolution gradients) → cpu (pure JS).
 * Nothing is downloaded at run time: the wasm binaries come from the installed package's dist/.
 */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export type BackendPreference = BackendName | 'auto';

export interface BackendSelection {
  readonly name: BackendName;
  /** Why this backend, including why better ones were not used. */
  readonly reason: string;
}

const nodeRequire = createRequire(__filename);
let current: BackendSelection | undefined;
let pending: Promise<BackendSelection> | undefined;
let tensorflowFailure: string | undefined;
let wasmConfigured = false;

function tryLoadTensorflow(): boolean {
  if (tf.findBackendFactory('tensorflow') !== null) return true;
  if (tensorflowFailure !== undefined) return false;
  try {
    // Registers the 'tensorflow' backend with the shared tfjs-core engine as a side effect.
    nodeRequire('@tensorflow/tfjs-node');
    if (tf.findBackendFactory('tensorflow') !== null) return true;
    tensorflowFailure = '@tensorflow/tfjs-node loaded but registered no tensorflow backend';
  } catch (error) {
    // Missing package, missing libtensorflow.so, ABI mismatch...: every failure means "not available".
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    tensorflowFailure = `@tensorflow/tfjs-node unavailable (${message})`;
  }
  return false;
}

function configureWasm(): void {
  if (wasmConfigured) return;
  const wasmFile = nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
  setWasmPaths(dirname(wasmFile) + sep);
  wasmConfigured = true;
}

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'wasm') configureWasm();
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

async function choose(preference: BackendPreference): Promise<BackendSelection> {
  const notes: string[] = [];
  if (preference === 'tensorflow' || preference === 'auto') {
    if (tryLoadTensorflow() && (await activate('tensorflow'))) {
      return { name: 'tensorflow', reason: 'native TensorFlow through @tensorflow/tfjs-node' };
    }
    const why = tensorflowFailure ?? 'the tensorflow backend failed to initialise';
    if (preference === 'tensorflow') throw new Error(`backend 'tensorflow' requested but ${why}`);
    notes.push(why);
  }
  if (preference === 'wasm' || preference === 'auto') {
    if (await activate('wasm')) {
      return {
        name: 'wasm',
        reason: preference === 'wasm' ? 'requested' : `${notes.join('; ')}; using WebAssembly (single-threaded)`,
      };
    }
    if (preference === 'wasm') throw new Error("backend 'wasm' requested but it failed to initialise");
    notes.push('wasm failed to initialise');
  }
  if (await activate('cpu')) {
    return { name: 'cpu', reason: preference === 'cpu' ? 'requested' : `${notes.join('; ')}; using the pure-JS cpu backend` };
  }
  throw new Error(`no tfjs backend could be initialised (${notes.join('; ')})`);
}

/**
 * Selects and initialises a backend. Idempotent: asking again for the active backend (or for
 * 'auto' once one is active) returns the same selection without touching the engine; asking for a
 * different one switches. Concurrent callers share one initialisation.
 */
export async function selectBackend(preference: BackendPreference = 'auto'): Promise<BackendSelection> {
  if (pending !== undefined) await pending.catch(() => undefined);
  if (current !== undefined && (preference === 'auto' || preference === current.name) && tf.getBackend() === current.name) {
    return current;
  }
  pending = choose(preference);
  try {
    current = await pending;
    return current;
  } finally {
    pending = undefined;
  }
}

/** The active selection, if selectBackend has run. */
export function activeBackend(): BackendSelection | undefined {
  return current;
}

/** wasm in tfjs 4.22 has no Conv2D gradient kernels, so convolutional models cannot train on it. */
export function canTrainConvolutions(name: BackendName): boolean {
  return name !== 'wasm';
}
