import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { TeacherSource } from '../store/config';
import { AgentError, EXIT } from '../cli/errors';
import type { FeatureMap } from '../../../../libs/ml/src';
import { loadMl } from './load-ml';

/**
 * Where the site's k teachers live. Every provider answers with each teacher's class
 * probabilities for each query ([teacher][example][class]); the agent folds them into one row per
 * query (training/ensemble-rows.ts) before anything is sealed.
 */
export interface TeacherEnsemble {
  /** For logs and `status`: what the teachers are, never what they saw. */
  readonly description: string;
  /** k when known without running the teachers. */
  readonly knownCount: number | null;
  predict(features: number[][]): Promise<unknown>;
}

/** The `--teachers-dir` / `--teachers-module` / `--predictor-url` flags, at most one of them. */
export interface TeacherFlags {
  teachersDir?: string;
  teachersModule?: string;
  predictorUrl?: string;
}

export function teacherSourceFromFlags(flags: TeacherFlags): TeacherSource | null {
  const given = [flags.teachersDir, flags.teachersModule, flags.predictorUrl].filter((v) => v !== undefined);
  if (given.length > 1) throw new AgentError('give only one of --teachers-dir, --teachers-module, --predictor-url', EXIT.configuration);
  if (flags.teachersDir !== undefined) return { kind: 'dir', path: resolve(flags.teachersDir) };
  if (flags.teachersModule !== undefined) return { kind: 'module', path: resolve(flags.teachersModule) };
  if (flags.predictorUrl !== undefined) {
    try {
      const url = new URL(flags.predictorUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
    } catch {
      throw new AgentError(`--predictor-url ${flags.predictorUrl}: must be an http(s) URL`, EXIT.configuration);
    }
    return { kind: 'url', url: flags.predictorUrl };
  }
  return null;
}

export function describeTeacherSource(source: TeacherSource): string {
  switch (source.kind) {
    case 'dir':
      return `tfjs models in ${source.path}`;
    case 'module':
      return `module ${source.path}`;
    case 'url':
      return `site-local predictor ${source.url}`;
  }
}

/** Subdirectories of `dir` holding a model.json, sorted: one teacher each. */
export function teacherModelDirs(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AgentError(`--teachers-dir ${dir}: not a directory`, EXIT.configuration);
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isDirectory() && existsSync(join(path, 'model.json')))
    .sort();
}

export async function openTeacherEnsemble(source: TeacherSource, fetchImpl: typeof fetch = fetch): Promise<TeacherEnsemble> {
  switch (source.kind) {
    case 'module':
      return moduleEnsemble(source.path);
    case 'url':
      return urlEnsemble(source.url, fetchImpl);
    case 'dir':
      return modelDirEnsemble(source.path);
  }
}

type PredictFn = (features: number[][]) => unknown;

function moduleEnsemble(path: string): TeacherEnsemble {
  if (!existsSync(path)) throw new AgentError(`--teachers-module ${path}: no such file`, EXIT.configuration);
  // createRequire works the same compiled (CommonJS) and under test runners that load sources as ESM.
  const loaded = createRequire(join(process.cwd(), 'concord-agent.js'))(path) as {
    predict?: unknown;
    teachers?: unknown;
    default?: { predict?: unknown };
  };
  const predict = (typeof loaded.predict === 'function' ? loaded.predict : loaded.default?.predict) as PredictFn | undefined;
  if (typeof predict !== 'function') throw new AgentError(`--teachers-module ${path}: must export predict(features)`, EXIT.configuration);
  return {
    description: `module ${path}`,
    knownCount: typeof loaded.teachers === 'number' ? loaded.teachers : null,
    predict: (features) => Promise.resolve(predict(features)),
  };
}

function urlEnsemble(url: string, fetchImpl: typeof fetch): TeacherEnsemble {
  return {
    description: `site-local predictor ${url}`,
    knownCount: null,
    async predict(features) {
      let res: Response;
      try {
        res = await fetchImpl(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ features }) });
      } catch (error) {
        throw new AgentError(`predictor ${url}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (res.status !== 200) throw new AgentError(`predictor ${url}: HTTP ${res.status}`);
      const json = (await res.json()) as { probabilities?: unknown };
      return json.probabilities;
    },
  };
}

/** Written by `train` beside the teachers: how they were made, and the normalisation their inputs need. */
export const TEACHERS_MANIFEST = 'teachers.json';

export interface TeachersManifest {
  version: 1;
  teachers: number;
  seed: number;
  partitionSizes: number[];
  heldOut: number;
  normalisation:
    { kind: 'none' } | { kind: 'scale'; maxValue: number } | { kind: 'standardise'; mean: readonly number[]; std: readonly number[] };
  /** A public feature map applied after normalisation (edge energy and/or PCA of the public pool). */
  featureMap?: FeatureMap;
  model: unknown;
  accuracies: (number | null)[];
  backend: string;
  trainedAt: string;
}

function readManifest(dir: string): Pick<TeachersManifest, 'normalisation' | 'featureMap'> {
  const path = join(dir, TEACHERS_MANIFEST);
  if (!existsSync(path)) return { normalisation: { kind: 'none' } };
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as TeachersManifest;
  return { normalisation: manifest.normalisation ?? { kind: 'none' }, ...(manifest.featureMap ? { featureMap: manifest.featureMap } : {}) };
}

/** Applies the teachers' recorded input normalisation to the public features of a batch. */
function normaliseRow(features: number[], n: TeachersManifest['normalisation']): number[] {
  switch (n.kind) {
    case 'none':
      return features;
    case 'scale':
      return features.map((v) => v / n.maxValue);
    case 'standardise':
      return features.map((v, i) => (v - n.mean[i]) / (n.std[i] || 1));
  }
}

async function modelDirEnsemble(dir: string): Promise<TeacherEnsemble> {
  const dirs = teacherModelDirs(dir);
  if (dirs.length === 0) throw new AgentError(`--teachers-dir ${dir}: no subdirectory with a model.json`, EXIT.configuration);

  const ml = await loadMl();
  await ml.selectBackend('auto');
  const models = await Promise.all(dirs.map((d) => ml.loadModel(d)));
  const { normalisation, featureMap } = readManifest(dir);
  if (featureMap) {
    // Checked once, when the teachers are opened; per batch only the row width is compared.
    const problem = ml.featureMapProblem(featureMap, featureMap.inputSize);
    if (problem !== null) throw new AgentError(`${TEACHERS_MANIFEST}: ${problem}`, EXIT.configuration);
  }
  return {
    description: `${dirs.length} tfjs models in ${dir}${featureMap ? ` on ${featureMap.description}` : ''}`,
    knownCount: dirs.length,
    predict(features) {
      const normalised = Float32Array.from(features.flatMap((row) => normaliseRow(row, normalisation)));
      const width = normalised.length / Math.max(1, features.length);
      if (featureMap && featureMap.inputSize !== width) {
        throw new AgentError(
          `${TEACHERS_MANIFEST}: the feature map takes ${featureMap.inputSize} features, the batch has ${width}`,
          EXIT.configuration,
        );
      }
      // The feature map is shared by every teacher: applied once per batch, not once per teacher.
      const flat = featureMap ? ml.applyFeatureMap(featureMap, normalised) : normalised;
      const outputs = models.map((model) => {
        const probabilities = ml.predictProbabilities(model, flat);
        const classes = probabilities.length / features.length;
        return features.map((_, i) => Array.from(probabilities.subarray(i * classes, (i + 1) * classes)));
      });
      return Promise.resolve(outputs);
    },
  };
}
