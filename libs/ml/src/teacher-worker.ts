/**
 * Worker-thread entry for parallel teacher training (see parallel.ts). Loaded by a tiny CommonJS
 * bootstrap, as compiled JS from dist/ or as TypeScript through tsx's require hook.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from './backend';
import { type Dataset, subset } from './data/dataset';
import { saveModel } from './io';
import { buildModel } from './models';
import type { FromWorker, SharedDataset, TeacherJob, TeacherWorkerData, ToWorker } from './parallel-protocol';
import { evaluateAccuracy, trainClassifier } from './train';

function fromShared(shared: SharedDataset): Dataset {
  return {
    features: new Float32Array(shared.features),
    labels: new Int32Array(shared.labels),
    shape: shared.shape,
    count: shared.count,
    classes: shared.classes,
  };
}

async function runJob(
  job: TeacherJob,
  data: TeacherWorkerData,
  post: (m: FromWorker) => void,
  backendName: 'tensorflow' | 'wasm' | 'cpu',
): Promise<void> {
  const seed = (job.training.seed ?? 1) + job.teacher;
  const own = subset(fromShared(data.dataset), job.indices);
  const model = buildModel(job.spec, seed, backendName);
  try {
    const train = await trainClassifier(model, own, {
      epochs: job.training.epochs,
      batchSize: job.training.batchSize,
      learningRate: job.training.learningRate,
      seed,
      progressEvery: job.training.progressEvery,
      onProgress: (progress) => post({ type: 'progress', teacher: job.teacher, progress }),
    });
    const accuracy = data.evaluation === undefined ? undefined : evaluateAccuracy(model, fromShared(data.evaluation));
    if (job.modelDir !== undefined) await saveModel(model, job.modelDir, { teacher: job.teacher, examples: own.count });
    post({ type: 'done', outcome: { teacher: job.teacher, examples: own.count, train, accuracy, modelDir: job.modelDir } });
  } finally {
    model.dispose();
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const data = workerData as TeacherWorkerData;
  const post = (message: FromWorker): void => port.postMessage(message);
  const backend = await selectBackend(data.backend);
  // Jobs run one at a time: tfjs's engine is per thread and training is synchronous compute.
  let queue = Promise.resolve();
  port.on('message', (message: ToWorker) => {
    if (message.type === 'exit') {
      queue = queue.then(() => port.close());
      return;
    }
    queue = queue.then(() =>
      runJob(message.job, data, post, backend.name).catch((error: unknown) => {
        post({ type: 'error', teacher: message.job.teacher, message: error instanceof Error ? error.message : String(error) });
      }),
    );
  });
  post({ type: 'ready', backend });
}

if (!isMainThread) {
  main().catch((error: unknown) => {
    parentPort?.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies FromWorker);
  });
}
