/**
 * `npm run --silent bench:utility`: teachers to student on the full Fashion-MNIST (Debian's
 * dataset-fashion-mnist), Scalable PATE's protocol, through the same code paths as a real job.
 *
 * - 250 teachers on disjoint 240-example partitions of the 60k training set, 50 at each of 5
 *   institutions; each institution is a real `concord-agent` process (init, enroll, budget, train,
 *   run) holding only its 12,000 examples.
 * - Teachers are MLPs on PCA-50 features, the same features as the reference. The PCA is fitted on
 *   the public pool only (no privacy cost) and given to every site as a public feature map.
 * - Public pool = the first 9,000 t10k images; student test set = the last 1,000 (the task's
 *   labelled holdout). A job asks the first `queries` pool examples through the signed, sealed
 *   protocol; the coordinator aggregates with CSPRNG noise, charges the ledger before releasing,
 *   publishes the sanitised data-dependent ε, and trains the student (worker thread) on the
 *   released labels plus the whole unlabelled pool.
 *
 * The bench plays every site and the evaluator, so it can also compute what no party of a real
 * deployment could: teacher and noiseless-ensemble accuracy on the test set, the accuracy of the
 * released labels against the pool's true labels, and the raw (unsanitised) data-dependent ε from
 * the teachers' votes. It prints one JSON line per configuration, then the best configuration at
 * sanitised ε ≤ 2 again as the last line. Progress goes to stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as ml from '@concord/ml';
import { PATE_ORDERS, planSmoothSensitivityRelease } from '@concord/privacy';
import { createImageTask } from '../scripts/lib/image-task';
import { bearerApi, createApiKey, freePort, startBuiltCoordinator } from '../scripts/lib/local-server';

const ROOT = resolve(__dirname, '..');
const AGENT = join(ROOT, 'bin', 'concord-agent.js');
const FASHION = process.env.FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
const INSTITUTIONS = 5;
const POOL = 9000;
const DELTA = 1e-5;
const COMPONENTS = 100;
/**
 * Teachers are softmax regressions on the public features (`--hidden none`): on 240 examples each
 * they are as accurate as an MLP 100-64-10 (mean 0.769 against 0.771 over 100 teachers) but err
 * more independently, so their ensemble is ~1.5 points better (0.852 against 0.837).
 */
const TEACHER_TRAINING = { hidden: 'none', batchSize: '32', learningRate: '0.01' };
const STUDENT = { features: 'edges', pcaComponents: COMPONENTS, hidden: [256], epochs: 40, semiSupervised: false };

type Mechanism =
  | { kind: 'gnmax'; sigma: number }
  | { kind: 'confident_gnmax'; threshold: number; sigma1: number; sigma2: number }
  | { kind: 'gaussian_soft_labels'; sigma: number; clipNorm: number; teacherOutput?: 'votes' };

interface JobConfiguration {
  name: string;
  mechanism: Mechanism;
  queries: number;
  /** Holdout examples asked after the pool queries, so the coordinator measures the released labels (charged). */
  evaluationQueries?: number;
  /** Soft labels only: σ is the coordinator's plan for this ε at δ over `queries` (POST /privacy/calibrate). */
  planEpsilon?: number;
  /** Pool queries asked in rounds chosen by a student (POST /jobs `querySelection`). */
  querySelection?: { kind: 'student_margin'; rounds: number; targetMargin: number };
}

/**
 * Teacher set-ups, each partitioning all 60,000 training images over the 5 institutions; the jobs
 * of a set-up run one after another on the same teachers, each charged to every institution.
 * Mechanism parameters were chosen before these runs, on simulated aggregation over the votes of
 * teachers trained the same way (seeds differ).
 */
const ALL_SETUPS: { teachers: number; epochs: string; jobs: JobConfiguration[] }[] = [
  {
    // Scalable PATE's protocol: 250 teachers × 240 examples.
    teachers: 250,
    epochs: '40',
    jobs: [
      // The reference's mechanism and query count.
      {
        name: 'confident-gnmax T=175 σ1=150 σ2=40',
        mechanism: { kind: 'confident_gnmax', threshold: 175, sigma1: 150, sigma2: 40 },
        queries: 640,
      },
      // Noisy soft labels: every query answered with the sum of the teachers' probability vectors
      // plus N(0, σ²) per class. Data-independent only: a composition of Gaussian mechanisms, so
      // the budgets' exact conversion gives its ε exactly, and before the job runs — the bench asks
      // the coordinator's planner (POST /privacy/calibrate) for the σ at which 1,500 queries cost
      // ε = 2, and spends the budget up to 2 with no margin for sanitising noise (σ ≈ 109; under
      // the RDP conversion the same σ would cost 2.2, and ε 2 needed σ = 120). Chosen on simulated
      // releases from these teachers (BENCHMARKS "Utility / Session 5" and "Session 6"). The
      // student distils at T = σ/4, the default. Teachers send their probability vectors.
      {
        name: 'gaussian soft labels',
        mechanism: { kind: 'gaussian_soft_labels', sigma: 0, clipNorm: 1 },
        planEpsilon: 2,
        queries: 1500,
      },
      // The same, but the pool queries are asked in 3 rounds of 500: the first 500 pool images,
      // then twice the 500 unasked images whose top-two margin under a student trained on what was
      // released so far is closest to 0.3 (querySelection; post-processing, so the same ε). In
      // simulation (6 draws) that gave 0.807 against 0.793 for the first 1,500 (BENCHMARKS
      // "Utility / Session 6"). Each round waits for its student (seconds: the students of one pool
      // share its feature map). Session 5's job with the teachers' votes instead of probabilities
      // was dropped: it did no better.
      {
        name: 'gaussian soft labels, 3 rounds chosen by the student',
        mechanism: { kind: 'gaussian_soft_labels', sigma: 0, clipNorm: 1 },
        planEpsilon: 2,
        queries: 1500,
        querySelection: { kind: 'student_margin', rounds: 3, targetMargin: 0.3 },
      },
      // GNMax for comparison (every query answered, so fewer queries for a similar ε), with 200
      // evaluation queries on the holdout: the coordinator itself then measures the released
      // labels and the student-to-ensemble ratio (GET /jobs/{id}/student), at the price of 200
      // more charged queries. (The same job without them — student 0.78–0.79 at sanitised ε
      // 1.4–1.9 over sessions 3 and 5 — was dropped to keep the benchmark within 352 s.)
      { name: 'gnmax σ=40 + 200 evaluation queries', mechanism: { kind: 'gnmax', sigma: 40 }, queries: 300, evaluationQueries: 200 },
    ],
  },
  {
    // More, smaller teachers: each vote matters less, so the same noise buys more answers.
    teachers: 500,
    epochs: '30',
    jobs: [
      {
        name: 'confident-gnmax T=400 σ1=200 σ2=80',
        mechanism: { kind: 'confident_gnmax', threshold: 400, sigma1: 200, sigma2: 80 },
        queries: 2000,
      },
    ],
  },
];

/** `--teachers 250,500` picks set-ups by teacher count; the default runs 250 only (the 352 s budget). */
const teachersFlag = process.argv.indexOf('--teachers');
const wanted = teachersFlag > 0 ? process.argv[teachersFlag + 1].split(',').map(Number) : [250];
const SETUPS = ALL_SETUPS.filter((s) => wanted.includes(s.teachers));
if (SETUPS.length === 0) throw new Error(`--teachers: choose among ${ALL_SETUPS.map((s) => s.teachers).join(', ')}`);
// The bench computes the raw data-dependent ε from the votes on the first pool images; a job that
// selects its queries asks others, so it must be one without a data-dependent analysis.
for (const job of SETUPS.flatMap((s) => s.jobs)) {
  if (job.querySelection && job.mechanism.kind !== 'gaussian_soft_labels')
    throw new Error(`${job.name}: query selection needs soft labels here`);
}

const started = Date.now();
const say = (message: string): void => {
  process.stderr.write(`[utility ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
};
const seconds = (ms: number): number => Math.round(ms / 100) / 10;

function runAsync(command: string, args: string[], label: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${label} exited with ${code}: ${err}`))));
  });
}

function requireDataset(): void {
  const missing = [
    'train-images-idx3-ubyte.gz',
    'train-labels-idx1-ubyte.gz',
    't10k-images-idx3-ubyte.gz',
    't10k-labels-idx1-ubyte.gz',
  ].filter((f) => !existsSync(join(FASHION, f)));
  if (missing.length > 0) {
    throw new Error(`Fashion-MNIST not found in ${FASHION} (missing ${missing.join(', ')}): apt-get install -y dataset-fashion-mnist`);
  }
}

async function main(): Promise<void> {
  requireDataset();
  const work = mkdtempSync(join(tmpdir(), 'concord-utility-'));
  const children: ChildProcess[] = [];
  const stages: Record<string, number> = {};
  let t = Date.now();
  const stage = (name: string): void => {
    stages[name] = seconds(Date.now() - t);
    t = Date.now();
  };
  try {
    // --- data -------------------------------------------------------------------------------
    const backend = await ml.selectBackend('auto');
    const train = ml.loadIdxDataset(join(FASHION, 'train-images-idx3-ubyte.gz'), join(FASHION, 'train-labels-idx1-ubyte.gz'));
    const t10k = ml.loadIdxDataset(join(FASHION, 't10k-images-idx3-ubyte.gz'), join(FASHION, 't10k-labels-idx1-ubyte.gz'));
    const pool = ml.subset(
      t10k,
      Int32Array.from({ length: POOL }, (_, i) => i),
    );
    const test = ml.subset(
      t10k,
      Int32Array.from({ length: t10k.count - POOL }, (_, i) => POOL + i),
    );
    stage('load_s');

    // --- the public feature map: edge energy, then PCA fitted on the public pool ---------------
    const scaledPool = ml.normalise(pool, ml.imageScaling(255));
    const featureMap = ml.fitFeatureMap(scaledPool.features, 784, {
      edges: ml.DEFAULT_EDGE_ENERGY,
      components: COMPONENTS,
      description: `edge energy then PCA-${COMPONENTS}, fitted on the first 5000 public pool images (unlabelled)`,
    });
    const featuresFile = join(work, 'public-features.json');
    writeFileSync(featuresFile, JSON.stringify(featureMap));
    stage('features_s');
    say(`${train.count} training images, ${pool.count} public, ${test.count} test; ${featureMap.description} (backend ${backend.name})`);

    // --- coordinator and task --------------------------------------------------------------------
    const dataDir = join(work, 'coordinator');
    const env = { ...process.env, CONCORD_DATA_DIR: dataDir, LOG_LEVEL: 'warn', CONCORD_RATE_LIMIT_RPS: '0' };
    const admin = createApiKey(env, 'admin');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    children.push(await startBuiltCoordinator(env, port, { stderr: 'inherit', timeoutMs: 60_000 }));
    const api = bearerApi(url, admin);
    const task = await createImageTask(api, { name: 'fashion-mnist', shape: [28, 28, 1], scale: 255, classes: CLASSES }, pool, test);
    stage('coordinator_s');
    say(`coordinator at ${url} (embedded PGlite); task with ${pool.count} public and ${test.count} holdout examples`);

    const scaledTest = ml.flatten(ml.normalise(test, ml.imageScaling(255)));
    const testFeatures = ml.applyFeatureMap(featureMap, scaledTest.features);
    const poolFeatures = ml.applyFeatureMap(featureMap, scaledPool.features);
    const shards = ml.partition(train, INSTITUTIONS, 2026);
    const results: Record<string, unknown>[] = [];
    const shared = { ...stages };

    for (const [setupIndex, setup] of SETUPS.entries()) {
      const setupStages: Record<string, number> = {};
      let ts = Date.now();
      const setupStage = (name: string): void => {
        setupStages[name] = seconds(Date.now() - ts);
        ts = Date.now();
      };
      // --- five institutions, teachers / 5 each --------------------------------------------------
      const cap = 100;
      const perSite = setup.teachers / INSTITUTIONS;
      const sites: { name: string; dir: string; institution: string }[] = [];
      const trainArgs: string[][] = [];
      const enrolments: Promise<void>[] = [];
      for (let i = 0; i < INSTITUTIONS; i++) {
        const name = `institution-${setupIndex + 1}.${i + 1}`;
        const dir = join(work, `setup-${setupIndex + 1}-site-${i + 1}`);
        const institution = await api('POST', '/institutions', { name, epsilonCap: cap, delta: DELTA, reason: 'utility benchmark' });
        const images = join(work, `shard-${i + 1}-images.idx`);
        const labels = join(work, `shard-${i + 1}-labels.idx`);
        if (setupIndex === 0) {
          const shard = ml.subset(train, shards.parts[i]);
          ml.writeIdxFile(images, { dtype: 'uint8', shape: [shard.count, 28, 28], data: Uint8Array.from(shard.features) }, { gzip: false });
          ml.writeIdxFile(labels, { dtype: 'uint8', shape: [shard.count], data: Uint8Array.from(shard.labels) }, { gzip: false });
        }
        const token = await api('POST', `/institutions/${institution.id}/enrollment-tokens`, {});
        enrolments.push(
          (async () => {
            await runAsync(AGENT, ['init', '--dir', dir, '--url', url], name);
            await runAsync(AGENT, ['enroll', '--dir', dir, '--url', url, '--token', token.token, '--teachers', String(perSite)], name);
            await runAsync(AGENT, ['budget', '--dir', dir, '--cap', String(cap), '--delta', String(DELTA)], name);
          })(),
        );
        sites.push({ name, dir, institution: institution.id });
        trainArgs.push([
          'train',
          ...['--data', images, '--labels', labels, '--teachers', String(perSite), '--holdout', '0'],
          ...['--features', featuresFile, '--trainer', 'bank', '--hidden', TEACHER_TRAINING.hidden],
          ...['--epochs', setup.epochs, '--batch-size', TEACHER_TRAINING.batchSize, '--learning-rate', TEACHER_TRAINING.learningRate],
          ...['--seed', String(i + 1)],
          ...['--out', join(dir, 'teachers')],
        ]);
      }
      await Promise.all(enrolments);
      setupStage('enrollment_s');
      say(`${INSTITUTIONS} institutions enrolled; training ${perSite} teachers × ${train.count / setup.teachers} examples at each`);
      await Promise.all(sites.map((site, i) => runAsync(AGENT, trainArgs[i], site.name)));
      setupStage('teachers_s');

      // --- evaluation the bench alone can do: teachers and ensemble on the test set -------------
      const maxQueries = Math.max(...setup.jobs.map((c) => c.queries));
      const queried = poolFeatures.subarray(0, maxQueries * COMPONENTS);
      const testVotes = new Int32Array(test.count * 10);
      const poolVotes = new Int32Array(maxQueries * 10);
      let teacherCorrect = 0;
      for (const site of sites) {
        for (let k = 0; k < perSite; k++) {
          const model = await ml.loadModel(join(site.dir, 'teachers', `teacher-${k}`));
          ml.argmaxRows(ml.predictProbabilities(model, testFeatures), 10).forEach((c, i) => {
            testVotes[i * 10 + c] += 1;
            if (c === test.labels[i]) teacherCorrect += 1;
          });
          ml.argmaxRows(ml.predictProbabilities(model, queried), 10).forEach((c, i) => (poolVotes[i * 10 + c] += 1));
          model.dispose();
        }
      }
      const teacherAccuracy = teacherCorrect / (setup.teachers * test.count);
      let ensembleCorrect = 0;
      for (let i = 0; i < test.count; i++) if (argmax(testVotes.subarray(i * 10, i * 10 + 10)) === test.labels[i]) ensembleCorrect += 1;
      const ensembleAccuracy = ensembleCorrect / test.count;
      setupStage('evaluation_s');
      say(
        `${setup.teachers} teachers: ${teacherAccuracy.toFixed(4)} mean accuracy, noiseless ensemble ${ensembleAccuracy.toFixed(4)} on the test set`,
      );

      // --- agents answer; the set-up's jobs run one after another ---------------------------------
      const agents = sites.map((site) =>
        spawn(
          process.execPath,
          [AGENT, 'run', '--dir', site.dir, '--url', url, '--teachers-dir', join(site.dir, 'teachers'), '--poll-interval', '100'],
          {
            stdio: ['ignore', 'ignore', 'ignore'],
          },
        ),
      );
      children.push(...agents);
      for (const planned of setup.jobs) {
        const jobStarted = Date.now();
        const config = await withPlannedSigma(api, planned);
        const job = await api('POST', '/jobs', {
          taskId: task.id,
          mechanism: config.mechanism,
          participants: sites.map((site) => site.institution),
          queries: config.queries,
          ...(config.evaluationQueries ? { evaluationQueries: config.evaluationQueries } : {}),
          ...(config.querySelection ? { querySelection: config.querySelection } : {}),
          batchSize: 200,
          batchDeadlineMs: 120_000,
          minTeachers: setup.teachers,
          delta: DELTA,
          student: STUDENT,
        });
        await api('POST', `/jobs/${job.id}/start`);
        let state = await api('GET', `/jobs/${job.id}`);
        while (!['completed', 'failed', 'cancelled'].includes(state.status)) {
          await new Promise((r) => setTimeout(r, 200));
          state = await api('GET', `/jobs/${job.id}`);
        }
        if (state.status !== 'completed') throw new Error(`job ${config.name} ${state.status}: ${state.failure}`);
        const jobS = seconds(Date.now() - jobStarted);
        const studentStarted = Date.now();
        let student = await api('GET', `/jobs/${job.id}/student`);
        while (student.status === 'queued' || student.status === 'training') {
          await new Promise((r) => setTimeout(r, 250));
          student = await api('GET', `/jobs/${job.id}/student`);
        }
        if (student.status !== 'ready') throw new Error(`student of ${config.name}: ${student.status} ${student.error}`);
        while (state.epsilonDataDependentSanitized === null && state.dataDependentNote === null) {
          await new Promise((r) => setTimeout(r, 200));
          state = await api('GET', `/jobs/${job.id}`);
        }
        const studentS = seconds(Date.now() - studentStarted);

        const released = (await api('GET', `/jobs/${job.id}/labels`)) as {
          queryIndex: number;
          split: 'public' | 'holdout';
          exampleIndex: number;
          answered: boolean;
          label: number | null;
          soft: number[] | null;
        }[];
        // Label accuracy against the pool's true labels (evaluation queries are scored by the coordinator);
        // for soft labels, that of the argmax of the released noisy sums.
        const answeredLabels = released.filter((l) => l.answered && l.queryIndex < config.queries);
        const labelOf = (l: (typeof released)[number]): number | null => (l.soft ? argmax(l.soft) : l.label);
        const labelAccuracy =
          answeredLabels.filter((l) => labelOf(l) === pool.labels[l.exampleIndex]).length / Math.max(1, answeredLabels.length);
        // The raw data-dependent ε, from the teachers' votes (only this evaluator can compute it),
        // with the same analysis and conversion the coordinator sanitises.
        const answeredFlags = new Map(released.map((l) => [l.queryIndex, l.answered]));
        // Evaluation query h is holdout example h, i.e. test row h: its votes are the test votes.
        const votes = Array.from({ length: config.queries + (config.evaluationQueries ?? 0) }, (_, q) =>
          q < config.queries
            ? Array.from(poolVotes.subarray(q * 10, q * 10 + 10))
            : Array.from(testVotes.subarray((q - config.queries) * 10, (q - config.queries) * 10 + 10)),
        );
        // Soft labels have no data-dependent analysis: their data-independent ε is the only figure.
        const plan =
          config.mechanism.kind === 'gaussian_soft_labels'
            ? null
            : planSmoothSensitivityRelease({
                votes,
                numTeachers: setup.teachers,
                params:
                  config.mechanism.kind === 'gnmax'
                    ? { threshold: null, sigma1: null, sigma2: config.mechanism.sigma }
                    : { threshold: config.mechanism.threshold, sigma1: config.mechanism.sigma1, sigma2: config.mechanism.sigma2 },
                delta: DELTA,
                orders: PATE_ORDERS,
                answered: votes.map((_, q) => answeredFlags.get(q) ?? false),
                conversion: 'improved',
              });
        const line = {
          dataset: 'fashion-mnist',
          configuration: config.name,
          teachers: setup.teachers,
          examples_per_teacher: train.count / setup.teachers,
          institutions: INSTITUTIONS,
          features: featureMap.description,
          mechanism: config.mechanism,
          teacher_accuracy: round(teacherAccuracy),
          ensemble_accuracy: round(ensembleAccuracy),
          queries: state.queries,
          answered: answeredLabels.length,
          label_accuracy: round(labelAccuracy),
          ...(config.evaluationQueries
            ? {
                evaluation_queries: config.evaluationQueries,
                // What the coordinator serves to admins, measured on its evaluation queries.
                served_evaluation: student.metrics.evaluation,
                served_inference: student.metrics.inference,
              }
            : {}),
          student_accuracy: round(student.metrics.holdoutAccuracy),
          student_parameters: student.parameters,
          epsilon_data_independent: round(Math.max(...state.participants.map((p: { epsilonCharged: number }) => p.epsilonCharged))),
          epsilon_data_dependent: plan === null ? null : round(plan.epsBeforeSs),
          epsilon_data_dependent_sanitized: round(state.epsilonDataDependentSanitized),
          ...(plan === null ? { epsilon_note: state.dataDependentNote } : {}),
          delta: DELTA,
          wall_s: seconds(Date.now() - started),
          stages: { ...shared, ...setupStages, job_s: jobS, student_s: studentS },
          backend: backend.name,
        };
        results.push(line);
        process.stdout.write(`${JSON.stringify(line)}\n`);
        say(
          `${config.name}: ${answeredLabels.length}/${state.queries} answered, labels ${labelAccuracy.toFixed(3)}, student ${student.metrics.holdoutAccuracy.toFixed(3)}, ε ${line.epsilon_data_independent} (data-independent), ${line.epsilon_data_dependent_sanitized} (sanitised data-dependent)`,
        );
      }
      for (const agent of agents) agent.kill('SIGTERM');
    }
    const verification = await api('GET', '/ledger/verification');
    if (!verification.verified) throw new Error(`ledger did not verify: ${JSON.stringify(verification.problems)}`);
    // A configuration qualifies at ε ≤ 2 by its sanitised data-dependent ε, or — for soft labels,
    // accounted data-independently only — by its data-independent ε, which bounds any data-dependent one.
    const selectionEpsilon = (r: Record<string, unknown>): number =>
      (r.epsilon_data_dependent_sanitized as number | null) ?? (r.epsilon_data_independent as number);
    const eligible = results.filter((r) => selectionEpsilon(r) <= 2);
    if (eligible.length === 0) {
      say('no configuration reached sanitised ε ≤ 2');
    } else {
      const best = eligible.reduce((a, b) => ((b.student_accuracy as number) > (a.student_accuracy as number) ? b : a));
      const selectedOn = best.epsilon_data_dependent_sanitized === null ? 'epsilon_data_independent' : 'epsilon_data_dependent_sanitized';
      process.stdout.write(
        `${JSON.stringify({ ...best, best_at_sanitized_epsilon_2: true, selected_on: selectedOn, wall_s: seconds(Date.now() - started) })}\n`,
      );
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

/** A soft-label configuration with `planEpsilon` gets the σ the coordinator's planner gives for it. */
async function withPlannedSigma(api: ReturnType<typeof bearerApi>, config: JobConfiguration): Promise<JobConfiguration> {
  if (config.planEpsilon === undefined) return config;
  if (config.mechanism.kind !== 'gaussian_soft_labels') throw new Error(`${config.name}: planEpsilon is for soft labels`);
  const plan = await api('POST', '/privacy/calibrate', {
    mechanism: 'gaussian_soft_labels',
    queries: config.queries,
    epsilon: config.planEpsilon,
    delta: DELTA,
    clipNorm: config.mechanism.clipNorm,
  });
  // Rounded to 3 decimals, up: more noise, so the cost stays within the plan.
  const safe = Math.ceil(plan.sigma * 1000) / 1000;
  return {
    ...config,
    name: `${config.name} σ=${safe} (planned: ε ${config.planEpsilon} over ${config.queries} queries)`,
    mechanism: { ...config.mechanism, sigma: safe },
  };
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return best;
}

function round(x: number | null): number | null {
  return x === null ? null : Math.round(x * 10_000) / 10_000;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:utility failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
