/**
 * `npm run demo`: the main job, end to end, on the embedded database.
 *
 * Starts the coordinator (embedded PGlite, a fresh data directory), creates three institutions and
 * a Fashion-MNIST task from the subset the project ships (datasets/fashion-mnist-subset), gives
 * each institution a disjoint shard of the training images, and runs three real agent processes
 * (`concord-agent init / enroll / budget / train / run`). Each trains its teachers locally; a
 * Confident-GNMax job labels the public pool through the signed, sealed protocol and the ledger;
 * the coordinator trains the student. Progress goes to stderr; the last line on stdout is one JSON
 * object with the figures. Nothing is downloaded.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { confidentGnmaxEvent, exactGaussianEpsilon } from '@concord/privacy';
import * as ml from '@concord/ml';
import { createImageTask } from './lib/image-task';
import { bearerApi, createApiKey, freePort, startBuiltCoordinator } from './lib/local-server';

const ROOT = resolve(__dirname, '..');
const SUBSET = join(ROOT, 'datasets', 'fashion-mnist-subset');
const AGENT = join(ROOT, 'bin', 'concord-agent.js');
const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

const SITES = ['Hospital North', 'Bank South', 'Clinic East'];
/** `npm run demo -- --keep` leaves the coordinator running so that report_url can be opened. */
const KEEP = process.argv.includes('--keep');
const TEACHERS_PER_SITE = 10;
const MECHANISM = { kind: 'confident_gnmax', threshold: 20, sigma1: 8, sigma2: 4 } as const;
const DELTA = 1e-5;
const BATCH_SIZE = 100;
/** Components of the public feature map (edge energy, then PCA of the pool). */
const FEATURES = 60;

const started = Date.now();
function say(message: string): void {
  process.stderr.write(`[demo ${((Date.now() - started) / 1000).toFixed(0).padStart(3)}s] ${message}\n`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [command, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

function runAsync(command: string, args: string[], label: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const l of d.toString().split('\n').filter(Boolean)) say(`${label}: ${l}`);
    });
    child.stderr.on('data', () => undefined); // per-epoch progress bars: too chatty for three sites at once
    child.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${label} exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'concord-demo-'));
  const children: ChildProcess[] = [];
  try {
    const pub = ml.loadIdxDataset(join(SUBSET, 'public-images-idx3-ubyte.gz'), join(SUBSET, 'public-labels-idx1-ubyte.gz'));
    const holdout = ml.loadIdxDataset(join(SUBSET, 'holdout-images-idx3-ubyte.gz'), join(SUBSET, 'holdout-labels-idx1-ubyte.gz'));

    // --- the public feature map every site and the student use (fitted on the pool: no privacy cost), before
    // the coordinator starts: fitting takes seconds
    await ml.selectBackend('auto');
    const featureMap = ml.fitFeatureMap(ml.normalise(pub, ml.imageScaling(255)).features, 784, {
      edges: ml.DEFAULT_EDGE_ENERGY,
      components: FEATURES,
    });
    const featuresFile = join(work, 'public-features.json');
    writeFileSync(featuresFile, JSON.stringify(featureMap));
    say(`public feature map: ${featureMap.description}`);

    // --- coordinator -----------------------------------------------------------------------
    const dataDir = join(work, 'coordinator');
    const env = { ...process.env, CONCORD_DATA_DIR: dataDir, LOG_LEVEL: 'warn', CONCORD_RATE_LIMIT_RPS: '0' };
    const admin = createApiKey(env, 'admin');
    const complianceKey = KEEP ? createApiKey(env, 'compliance') : '';
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    children.push(await startBuiltCoordinator(env, port, { stderr: 'inherit' }));
    say(`coordinator up at ${url} (embedded PGlite in ${dataDir})`);
    const api = bearerApi(url, admin);

    // --- task and public pool ---------------------------------------------------------------
    const task = await createImageTask(api, { name: 'fashion-mnist', shape: [28, 28, 1], scale: 255, classes: CLASSES }, pub, holdout);
    say(`task fashion-mnist: ${pub.count} public (unlabelled) queries, ${holdout.count} holdout examples`);

    // --- the job's worst case, so that budgets admit it -------------------------------------
    // (exact: budgets convert compositions of Gaussian mechanisms exactly, docs/ledger.md)
    const worst = exactGaussianEpsilon(confidentGnmaxEvent({ ...MECHANISM, queries: pub.count, answered: pub.count }), DELTA)!;
    const cap = Math.ceil(worst * 1.1);

    // --- three sites: shards, agents, teachers ----------------------------------------------
    const train = ml.loadIdxDataset(join(SUBSET, 'train-images-idx3-ubyte.gz'), join(SUBSET, 'train-labels-idx1-ubyte.gz'));
    const shards = ml.partition(train, SITES.length, 2026);
    const sites = [];
    for (const [i, name] of SITES.entries()) {
      const dir = join(work, `site-${i + 1}`);
      const institution = await api('POST', '/institutions', { name, epsilonCap: cap, delta: DELTA, reason: 'demo consortium' });
      const shard = ml.subset(train, shards.parts[i]);
      const images = join(work, `shard-${i + 1}-images.idx.gz`);
      const labels = join(work, `shard-${i + 1}-labels.idx.gz`);
      ml.writeIdxFile(images, { dtype: 'uint8', shape: [shard.count, 28, 28], data: Uint8Array.from(shard.features) }, { gzip: true });
      ml.writeIdxFile(labels, { dtype: 'uint8', shape: [shard.count], data: Uint8Array.from(shard.labels) }, { gzip: true });
      run(AGENT, ['init', '--dir', dir, '--url', url]);
      const token = await api('POST', `/institutions/${institution.id}/enrollment-tokens`, {});
      run(AGENT, ['enroll', '--dir', dir, '--url', url, '--token', token.token, '--teachers', String(TEACHERS_PER_SITE)]);
      run(AGENT, ['budget', '--dir', dir, '--cap', String(cap), '--delta', String(DELTA)]);
      sites.push({ name, dir, institution: institution.id, images, labels });
    }
    say(
      `3 institutions enrolled, each with a local ε cap of ${cap} at δ=${DELTA}; training ${TEACHERS_PER_SITE} teachers per site on disjoint shards`,
    );
    await Promise.all(
      sites.map((s, i) =>
        runAsync(
          AGENT,
          [
            'train',
            '--data',
            s.images,
            '--labels',
            s.labels,
            '--teachers',
            String(TEACHERS_PER_SITE),
            '--features',
            featuresFile,
            '--hidden',
            '64',
            '--epochs',
            '20',
            '--batch-size',
            '32',
            '--learning-rate',
            '0.003',
            '--seed',
            String(i + 1),
            '--out',
            join(s.dir, 'teachers'),
          ],
          s.name,
        ),
      ),
    );

    // --- the job ----------------------------------------------------------------------------
    const job = await api('POST', '/jobs', {
      taskId: task.id,
      mechanism: MECHANISM,
      participants: sites.map((s) => s.institution),
      queries: pub.count,
      batchSize: BATCH_SIZE,
      batchDeadlineMs: 120_000,
      minTeachers: 2 * TEACHERS_PER_SITE,
      delta: DELTA,
      student: { features: 'edges', pcaComponents: FEATURES, semiSupervised: false },
    });
    await api('POST', `/jobs/${job.id}/start`);
    say(
      `Confident-GNMax job ${job.id} started (T=${MECHANISM.threshold}, σ1=${MECHANISM.sigma1}, σ2=${MECHANISM.sigma2}); worst-case ε ${worst.toFixed(2)}`,
    );
    for (const s of sites) {
      const agent = spawn(
        process.execPath,
        [AGENT, 'run', '--dir', s.dir, '--url', url, '--teachers-dir', join(s.dir, 'teachers'), '--poll-interval', '200'],
        {
          stdio: ['ignore', 'ignore', 'ignore'],
        },
      );
      children.push(agent);
    }
    let state = await api('GET', `/jobs/${job.id}`);
    let last = -1;
    while (!['completed', 'failed', 'cancelled'].includes(state.status)) {
      if (state.released !== last) say(`job: ${state.released}/${state.queries} queries released, ${state.answered} answered`);
      last = state.released;
      await new Promise((r) => setTimeout(r, 500));
      state = await api('GET', `/jobs/${job.id}`);
    }
    if (state.status !== 'completed') throw new Error(`job ${state.status}: ${state.failure}`);
    say(`job completed: ${state.answered} of ${state.queries} queries answered`);

    // --- student ------------------------------------------------------------------------------
    let student = await api('GET', `/jobs/${job.id}/student`);
    while (student.status === 'queued' || student.status === 'training') {
      await new Promise((r) => setTimeout(r, 500));
      student = await api('GET', `/jobs/${job.id}/student`);
    }
    if (student.status !== 'ready') throw new Error(`student ${student.status}: ${student.error}`);
    while (state.epsilonDataDependentSanitized === null && state.dataDependentNote === null) {
      await new Promise((r) => setTimeout(r, 200));
      state = await api('GET', `/jobs/${job.id}`);
    }
    say(
      `student ready: holdout accuracy ${student.metrics.holdoutAccuracy.toFixed(3)} (${student.parameters} parameters, ${student.backend})`,
    );

    // --- figures the demo can compute because it plays every site ------------------------------
    // The noiseless teacher ensemble on the holdout, and the accuracy of the released labels
    // against the pool's true labels: evaluation only, never sent anywhere.
    const scaled = ml.normalise(holdout, ml.imageScaling(255));
    const flat = { features: ml.applyFeatureMap(featureMap, ml.flatten(scaled).features) };
    const votes = new Int32Array(holdout.count * 10);
    let teacherCount = 0;
    for (const s of sites) {
      for (let t = 0; t < TEACHERS_PER_SITE; t++) {
        const model = await ml.loadModel(join(s.dir, 'teachers', `teacher-${t}`));
        const p = ml.predictProbabilities(model, flat.features);
        const labels = ml.argmaxRows(p, 10);
        labels.forEach((c, i) => (votes[i * 10 + c] += 1));
        model.dispose();
        teacherCount++;
      }
    }
    let ensembleCorrect = 0;
    for (let i = 0; i < holdout.count; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (votes[i * 10 + c] > votes[i * 10 + best]) best = c;
      if (best === holdout.labels[i]) ensembleCorrect++;
    }
    const released = (await api('GET', `/jobs/${job.id}/labels`)) as { queryIndex: number; answered: boolean; label: number | null }[];
    const answered = released.filter((l) => l.answered);
    const labelAccuracy = answered.filter((l) => l.label === pub.labels[l.queryIndex]).length / Math.max(1, answered.length);
    const verification = await api('GET', '/ledger/verification');
    const epsilon = Math.max(...state.participants.map((p: { epsilonCharged: number }) => p.epsilonCharged));

    process.stdout.write(
      `${JSON.stringify({
        student_accuracy: student.metrics.holdoutAccuracy,
        ensemble_accuracy: ensembleCorrect / holdout.count,
        label_accuracy: labelAccuracy,
        epsilon,
        epsilon_data_dependent_sanitized: state.epsilonDataDependentSanitized,
        delta: DELTA,
        queries: state.queries,
        answered: state.answered,
        institutions: SITES.length,
        teachers: teacherCount,
        ledger_verified: verification.verified,
        report_url: `${url}/reports/jobs/${job.id}`,
        wall_s: Math.round((Date.now() - started) / 1000),
      })}\n`,
    );
    if (KEEP) {
      say(`--keep: the coordinator stays up at ${url}; sign in at ${url}/reports/login with this compliance key:`);
      process.stderr.write(`${complianceKey}\n`);
      say('Ctrl-C to stop.');
      await new Promise((r) => process.once('SIGINT', r));
    }
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
