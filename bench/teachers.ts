/**
 * Teacher training throughput: MLP 784-256-10 on the committed Fashion-MNIST subset
 * (datasets/fashion-mnist-subset, pixels scaled to [0, 1]), Adam, batch 64, 2 epochs, for every backend
 * that initialises here — single-threaded on the main thread, and k teachers on k disjoint
 * partitions in worker threads (one per CPU by default). Median of RUNS runs after a warm-up.
 * Samples/s counts training examples processed (examples × epochs). Prints one JSON line.
 *
 *   npm run --silent bench:teachers   (RUNS=3 TEACHERS=4 WORKERS=nproc BATCH=64 EPOCHS=2 by default)
 *   RUNS=5 TEACHERS=8 npx tsx bench/teachers.ts
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  type BackendName,
  type Dataset,
  buildModel,
  flatten,
  imageScaling,
  loadIdxDataset,
  normalise,
  partition,
  selectBackend,
  subset,
  trainClassifier,
  trainTeachersInParallel,
} from '../libs/ml/src';

const RUNS = Number(process.env.RUNS ?? 3);
const TEACHERS = Number(process.env.TEACHERS ?? 4);
const WORKERS = Number(process.env.WORKERS ?? availableParallelism());
const BATCH = Number(process.env.BATCH ?? 64);
const EPOCHS = Number(process.env.EPOCHS ?? 2);
const SPEC = { kind: 'mlp', inputSize: 784, hidden: [256], classes: 10 } as const;
const BASELINE_WASM_SINGLE = 1600;
/** cpu (pure JS) is ~10× slower: fewer samples keep the run short, the rate is what counts. */
const SAMPLES: Record<BackendName, number> = { tensorflow: 6000, wasm: 6000, cpu: 1000 };

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x: number): number => Math.round(x);
const log = (message: string): void => void process.stderr.write(`${message}\n`);
/** Process CPU seconds (user + system) — all threads, workers included. */
const cpuSeconds = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

interface Runs {
  /** Wall-clock samples/s. */
  readonly rates: number[];
  /** Samples per CPU second: what the code costs, independent of other processes on the machine. */
  readonly perCpuSecond: number[];
}

async function singleThread(data: Dataset, backend: BackendName): Promise<Runs> {
  await selectBackend(backend);
  const warm = buildModel(SPEC, 99);
  await trainClassifier(
    warm,
    subset(
      data,
      Array.from({ length: 256 }, (_, i) => i),
    ),
    { epochs: 1, batchSize: BATCH },
  );
  warm.dispose();
  const rates: number[] = [];
  const perCpuSecond: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const model = buildModel(SPEC, run);
    const cpuStart = cpuSeconds();
    const result = await trainClassifier(model, data, { epochs: EPOCHS, batchSize: BATCH, seed: run });
    model.dispose();
    perCpuSecond.push(result.samples / (cpuSeconds() - cpuStart));
    rates.push(result.samplesPerSecond);
    log(`${backend} single thread run ${run + 1}: ${round(result.samplesPerSecond)} samples/s`);
  }
  return { rates, perCpuSecond };
}

async function parallel(data: Dataset, backend: BackendName): Promise<Runs & { readonly wall: number[]; readonly startupCpu: number[] }> {
  const rates: number[] = [];
  const wall: number[] = [];
  const perCpuSecond: number[] = [];
  const startupCpu: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const cpuStart = cpuSeconds();
    let ready = 0;
    let cpuAllReady = cpuStart;
    const result = await trainTeachersInParallel({
      dataset: data,
      partitions: partition(data, TEACHERS, run).parts,
      spec: SPEC,
      training: { epochs: EPOCHS, batchSize: BATCH, seed: run },
      workers: WORKERS,
      backend,
      onEvent: (event) => {
        if (event.kind === 'worker-ready' && ++ready === Math.min(WORKERS, TEACHERS)) cpuAllReady = cpuSeconds();
      },
    });
    const cpuEnd = cpuSeconds();
    // Training CPU only: from the last worker ready (module loading, tsx compilation and wasm
    // start-up excluded; workers start together, so little training happens before that).
    perCpuSecond.push((data.count * EPOCHS) / (cpuEnd - cpuAllReady));
    startupCpu.push(cpuAllReady - cpuStart);
    rates.push(result.samplesPerSecond);
    wall.push(((data.count * EPOCHS) / result.wallMs) * 1000);
    log(
      `${backend} ${result.workers} workers run ${run + 1}: ${round(result.samplesPerSecond)} samples/s (${round(wall[run])} with start-up)`,
    );
  }
  return { rates, wall, perCpuSecond, startupCpu };
}

async function main(): Promise<void> {
  // The 1-minute load average before and after: other processes on a shared machine skew the rates.
  const loadBefore = Number(loadavg()[0].toFixed(2));
  const dir = join(__dirname, '..', 'datasets', 'fashion-mnist-subset');
  const raw = loadIdxDataset(join(dir, 'train-images-idx3-ubyte.gz'), join(dir, 'train-labels-idx1-ubyte.gz'));
  const all = flatten(normalise(raw, imageScaling(255)));
  const backends: Record<string, unknown> = {};
  for (const name of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await selectBackend(name);
    } catch (error) {
      backends[name] = { available: false, reason: (error as Error).message };
      continue;
    }
    const data = subset(
      all,
      Array.from({ length: SAMPLES[name] }, (_, i) => i),
    );
    const single = await singleThread(data, name);
    const par = await parallel(data, name);
    backends[name] = {
      available: true,
      samples: data.count,
      singleThread: {
        samplesPerSecond: round(median(single.rates)),
        samplesPerCpuSecond: round(median(single.perCpuSecond)),
        runs: single.rates.map(round),
      },
      workerThreads: {
        workers: Math.min(WORKERS, TEACHERS),
        teachers: TEACHERS,
        samplesPerSecond: round(median(par.rates)),
        samplesPerSecondWithStartup: round(median(par.wall)),
        samplesPerCpuSecond: round(median(par.perCpuSecond)),
        startupCpuSeconds: Number(median(par.startupCpu).toFixed(2)),
        runs: par.rates.map(round),
      },
    };
  }
  const wasm = backends.wasm as { singleThread?: { samplesPerSecond: number }; workerThreads?: { samplesPerSecond: number } } | undefined;
  console.log(
    JSON.stringify({
      bench: 'teachers',
      model: 'mlp-784-256-10',
      optimizer: 'adam(1e-3)',
      batchSize: BATCH,
      epochs: EPOCHS,
      dataset: 'fashion-mnist-subset train',
      runs: RUNS,
      machine: {
        nproc: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
        node: process.version,
        loadAverage1m: { before: loadBefore, after: Number(loadavg()[0].toFixed(2)) },
      },
      backends,
      baseline: { wasmSingleThreadSamplesPerSecond: BASELINE_WASM_SINGLE },
      speedupVsBaseline: {
        wasmSingleThread: wasm?.singleThread ? Number((wasm.singleThread.samplesPerSecond / BASELINE_WASM_SINGLE).toFixed(2)) : null,
        wasmWorkerThreads: wasm?.workerThreads ? Number((wasm.workerThreads.samplesPerSecond / BASELINE_WASM_SINGLE).toFixed(2)) : null,
      },
    }),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
