import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { type CliEnvironment, line } from './context';
import { AgentError, EXIT } from './errors';
import type { FeatureMap } from '../../../../libs/ml/src';
import { type Ml, loadMl } from '../training/load-ml';
import { TEACHERS_MANIFEST, type TeachersManifest } from '../training/teachers';

interface TrainOptions {
  data: string;
  labels?: string;
  labelColumn: string;
  teachers: string;
  model: string;
  hidden: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  seed: string;
  workers?: string;
  holdout: string;
  out: string;
  scale?: string;
  features?: string;
  trainer: string;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new AgentError(`${flag} must be a positive integer (got ${value})`, EXIT.configuration);
  return n;
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/**
 * `train`: splits the local data into k disjoint partitions (seeded, recorded), trains one teacher
 * per partition in worker threads, evaluates each on a local held-out split, and saves them in the
 * tfjs layout with a manifest (partition sizes, seed, normalisation, accuracies). Everything stays
 * on this machine: a record is in exactly one teacher, which is what the per-record guarantee
 * rests on.
 */
export function trainCommand(env: CliEnvironment): Command {
  return new Command('train')
    .description('train k teachers on k disjoint partitions of local data (nothing is sent)')
    .requiredOption('--data <path>', 'IDX images file (with --labels) or CSV file with a header')
    .option('--labels <path>', 'IDX labels file for an IDX images file')
    .option('--label-column <name>', 'CSV: header of the label column', 'label')
    .requiredOption('--teachers <k>', 'number of teachers (disjoint partitions)')
    .option('--model <name>', 'mlp', 'mlp')
    .option('--hidden <widths>', 'hidden layer widths, comma separated; "none": no hidden layer (softmax regression)', '256')
    .option('--epochs <n>', 'training epochs per teacher', '15')
    .option('--batch-size <n>', 'minibatch size', '64')
    .option('--learning-rate <rate>', 'Adam learning rate', '0.001')
    .option('--seed <n>', 'seed of the partitioning and of training', '1')
    .option('--workers <n>', 'worker threads (default: the cores available)')
    .option('--holdout <fraction>', 'fraction of local data held out to evaluate the teachers (0: none)', '0.1')
    .option(
      '--features <file>',
      'a public feature map (JSON, kind "feature-map": edge energy and/or PCA fitted on the public pool) applied before the teachers',
    )
    .option('--trainer <kind>', 'bank: all teachers in one batched graph (fast for small MLPs); threads: one per worker thread', 'bank')
    .option('--scale <max>', 'divide features by this (images: 255); default 255 for IDX, standardise for CSV')
    .option('--out <dir>', 'where the teachers are saved', './concord-agent/teachers')
    .action(async (options: TrainOptions) => {
      const k = positiveInt(options.teachers, '--teachers');
      if (options.model !== 'mlp')
        throw new AgentError(`--model ${options.model}: only mlp is available on every backend`, EXIT.configuration);
      const hidden = options.hidden.trim() === 'none' ? [] : options.hidden.split(',').map((w) => positiveInt(w.trim(), '--hidden'));
      const epochs = positiveInt(options.epochs, '--epochs');
      const batchSize = positiveInt(options.batchSize, '--batch-size');
      const seed = positiveInt(options.seed, '--seed');
      const learningRate = Number(options.learningRate);
      if (!(learningRate > 0 && learningRate < 1)) throw new AgentError('--learning-rate must be in (0, 1)', EXIT.configuration);
      const holdoutFraction = Number(options.holdout);
      if (!(holdoutFraction >= 0 && holdoutFraction < 0.5))
        throw new AgentError('--holdout must be a fraction in [0, 0.5)', EXIT.configuration);
      if (options.trainer !== 'bank' && options.trainer !== 'threads')
        throw new AgentError(`--trainer ${options.trainer}: must be bank or threads`, EXIT.configuration);

      const ml = await loadMl();
      const backend = await ml.selectBackend('auto');
      line(env, `backend: ${backend.name} (${backend.reason})`);
      const isCsv = extname(options.data).toLowerCase() === '.csv';
      if (!isCsv && options.labels === undefined)
        throw new AgentError('an IDX images file needs --labels <labels.idx>', EXIT.configuration);
      let raw;
      try {
        raw = isCsv ? ml.readCsvFile(options.data, { labelColumn: options.labelColumn }) : ml.loadIdxDataset(options.data, options.labels!);
      } catch (error) {
        if (error instanceof ml.DatasetError) throw new AgentError(error.message, EXIT.configuration);
        throw error;
      }
      const normalisation =
        options.scale !== undefined ? ml.imageScaling(Number(options.scale)) : isCsv ? ml.fitStandardisation(raw) : ml.imageScaling(255);
      let dataset = ml.flatten(ml.normalise(raw, normalisation));
      const featureMap = options.features === undefined ? undefined : readFeatureMap(ml, options.features, ml.featureSize(dataset.shape));
      if (featureMap !== undefined) {
        dataset = { ...dataset, features: ml.applyFeatureMap(featureMap, dataset.features), shape: [featureMap.projection.outputSize] };
        line(
          env,
          `features: ${featureMap.description} (${featureMap.inputSize} → ${featureMap.projection.outputSize}), from ${options.features}`,
        );
      }
      const split =
        holdoutFraction > 0
          ? ml.holdoutSplit(dataset, holdoutFraction, seed)
          : { train: Int32Array.from({ length: dataset.count }, (_, i) => i), holdout: new Int32Array(0) };
      const train = ml.subset(dataset, split.train);
      const evaluation = ml.subset(dataset, split.holdout);
      if (k > train.count) throw new AgentError(`--teachers ${k}: only ${train.count} training examples`, EXIT.configuration);
      const partitioning = ml.partition(train, k, seed);
      const inputSize = ml.featureSize(dataset.shape);
      const out = resolve(options.out);
      mkdirSync(out, { recursive: true });
      const workers = options.workers !== undefined ? positiveInt(options.workers, '--workers') : Math.min(k, availableParallelism());
      line(
        env,
        `data: ${raw.count} examples, ${inputSize} features, ${raw.classes} classes; ${train.count} to ${k} teachers, ${evaluation.count} held out`,
      );
      line(
        env,
        options.trainer === 'bank'
          ? `training ${k} teachers in one batched graph`
          : `training ${k} teachers in ${workers} worker thread(s)`,
      );

      const perTeacher = new Map<number, number>();
      const totalSamples = partitioning.parts.reduce((s, p) => s + p.length, 0) * epochs;
      const started = Date.now();
      let lastPrint = 0;
      const spec = { kind: 'mlp' as const, inputSize, hidden, classes: raw.classes };
      const trainBank = async (): Promise<{ teachers: { accuracy?: number }[]; samplesPerSecond: number }> => {
        const bank = await ml.trainMlpBank(train, partitioning.parts, spec, {
          epochs,
          batchSize,
          learningRate,
          seed,
          onProgress: (p) =>
            env.stderr(
              `epoch ${p.epoch}/${p.epochs} ${bar(p.samplesDone / p.samplesTotal)} loss ${p.loss.toFixed(3)}  ETA ${duration(p.etaMs)}\n`,
            ),
        });
        const teachers: { accuracy?: number }[] = [];
        for (const [t, model] of bank.models.entries()) {
          const accuracy = evaluation.count > 0 ? ml.evaluateAccuracy(model, evaluation) : undefined;
          await ml.saveModel(model, join(out, `teacher-${t}`), { teacher: t, examples: partitioning.parts[t].length });
          model.dispose();
          teachers.push(accuracy === undefined ? {} : { accuracy });
          if (accuracy !== undefined)
            line(env, `teacher ${t + 1}/${k}: ${partitioning.parts[t].length} examples, held-out accuracy ${accuracy.toFixed(3)}`);
        }
        return { teachers, samplesPerSecond: bank.samplesPerSecond };
      };
      const result =
        options.trainer === 'bank'
          ? await trainBank()
          : await ml.trainTeachersInParallel({
              dataset: train,
              partitions: partitioning.parts,
              spec,
              training: { epochs, batchSize, learningRate, seed, progressEvery: 'epoch' },
              workers,
              outputDir: out,
              ...(evaluation.count > 0 ? { evaluation } : {}),
              onEvent: (event) => {
                if (event.kind === 'progress') {
                  perTeacher.set(event.teacher, event.progress.samplesDone);
                  const done = [...perTeacher.values()].reduce((a, b) => a + b, 0);
                  const now = Date.now();
                  if (now - lastPrint < 1000 && done < totalSamples) return;
                  lastPrint = now;
                  const elapsed = now - started;
                  const eta = done > 0 ? (elapsed * (totalSamples - done)) / done : 0;
                  env.stderr(
                    `teacher ${event.teacher + 1}/${k} epoch ${event.progress.epoch}/${event.progress.epochs} ${bar(event.progress.samplesDone / event.progress.samplesTotal, 10)}  overall ${bar(done / totalSamples)} ${Math.round((100 * done) / totalSamples)}%  ETA ${duration(eta)}\n`,
                  );
                } else if (event.kind === 'teacher-done') {
                  line(
                    env,
                    `teacher ${event.outcome.teacher + 1}/${k}: ${event.outcome.examples} examples, held-out accuracy ${(event.outcome.accuracy ?? NaN).toFixed(3)}`,
                  );
                }
              },
            });
      const manifest: TeachersManifest = {
        version: 1,
        teachers: k,
        seed,
        partitionSizes: partitioning.parts.map((p) => p.length),
        heldOut: evaluation.count,
        normalisation,
        ...(featureMap !== undefined ? { featureMap } : {}),
        model: spec,
        accuracies: result.teachers.map((t) => t.accuracy ?? null),
        backend: backend.name,
        trainedAt: new Date().toISOString(),
      };
      writeFileSync(join(out, TEACHERS_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
      const accs = result.teachers.flatMap((t) => (t.accuracy === undefined ? [] : [t.accuracy]));
      const mean =
        accs.length > 0 ? `mean held-out accuracy ${(accs.reduce((a, b) => a + b, 0) / accs.length).toFixed(3)}` : 'no local held-out set';
      line(
        env,
        `done in ${duration(Date.now() - started)}: ${k} teachers in ${out}, ${mean}, ${Math.round(result.samplesPerSecond)} samples/s`,
      );
    });
}

/** Reads and checks a public feature map for inputs of `inputSize` features. */
function readFeatureMap(ml: Ml, path: string, inputSize: number): FeatureMap {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AgentError(`--features ${path}: ${error instanceof Error ? error.message : String(error)}`, EXIT.configuration);
  }
  const map = parsed as FeatureMap;
  const problem = ml.featureMapProblem(map, inputSize);
  if (problem !== null) throw new AgentError(`--features ${path}: ${problem}`, EXIT.configuration);
  return map;
}
