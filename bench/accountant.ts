/**
 * Accountant benchmark (the workload the vectors README times for the Python reference):
 * 10,000 GNMax queries, 250 teachers, 10 classes, σ = 40, data-dependent RDP (Scalable PATE
 * Prop. 7 + Thm 6) at the 298 PATE orders accumulated; then the improved RDP→ε conversion at the
 * 156 dp_accounting orders. Prints one JSON line.
 *
 * npm run --silent bench:accountant
 */
import { performance } from 'node:perf_hooks';
import { DPA_ORDERS, PATE_ORDERS, addRdpGaussian, computeLogqGaussian, epsilonFromRdp } from '../libs/privacy/src';

const QUERIES = 10_000;
const TEACHERS = 250;
const CLASSES = 10;
const SIGMA = 40;
const REFERENCE_PYTHON_S = 3.1;
const REFERENCE_CONVERSION_US = 186;

/**
 * Synthetic votes from a seeded xorshift32 generator. NOT NOISE: it only makes the benchmark's
 * input histograms reproducible; privacy noise elsewhere comes from a CSPRNG.
 */
function makeVotes(seed: number): Float64Array[] {
  let s = seed >>> 0 || 1;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const rows: Float64Array[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const v = new Float64Array(CLASSES);
    // Mostly confident teachers, as in the vectors: a favourite class takes a random share.
    const top = Math.floor(next() * CLASSES);
    const share = 0.5 + 0.5 * Math.pow(next(), 0.3);
    const topVotes = Math.round(share * TEACHERS);
    v[top] = topVotes;
    for (let t = topVotes; t < TEACHERS; t++) v[Math.floor(next() * CLASSES)] += 1;
    rows.push(v);
  }
  return rows;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// The frozen order list, as a ledger keeps it (frozen lists skip the cache re-validation).
const ORDERS = PATE_ORDERS;

/** Wall time and CPU time (ms) of one pass; CPU time is less disturbed by other processes. */
function runWorkload(votes: Float64Array[], acc: Float64Array): { wall: number; cpu: number } {
  acc.fill(0);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < votes.length; i++) addRdpGaussian(acc, computeLogqGaussian(votes[i], SIGMA), SIGMA, ORDERS);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

function main(): void {
  const votes = makeVotes(20260101);
  const acc = new Float64Array(PATE_ORDERS.length);
  // Warm-up (JIT), then the median of several timed runs.
  runWorkload(votes, acc);
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t = runWorkload(votes, acc);
    runs.push(t.wall);
    cpuRuns.push(t.cpu);
  }
  const ddMs = median(runs);
  const ddCpuMs = median(cpuRuns);

  // Conversion: total RDP of the workload mapped onto the DPA orders (data-independent α/σ² per
  // query, so the conversion sees a realistic vector), timed over many repetitions.
  const rdpDpa = Float64Array.from(DPA_ORDERS, (a) => (QUERIES * a) / (SIGMA * SIGMA));
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink += epsilonFromRdp(DPA_ORDERS, rdpDpa, 1e-5).epsilon;
  const reps = 200_000;
  const convRuns: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) sink += epsilonFromRdp(DPA_ORDERS, rdpDpa, 1e-5).epsilon;
    convRuns.push(((performance.now() - t0) * 1000) / reps);
  }
  const convUs = median(convRuns);
  const eps = epsilonFromRdp(ORDERS, acc, 1e-5);
  const out = {
    queries: QUERIES,
    teachers: TEACHERS,
    classes: CLASSES,
    sigma: SIGMA,
    orders: PATE_ORDERS.length,
    dd_rdp_total_ms: Number(ddMs.toFixed(2)),
    dd_rdp_cpu_ms: Number(ddCpuMs.toFixed(2)),
    per_query_us: Number(((ddMs * 1000) / QUERIES).toFixed(3)),
    eps_conversion_us: Number(convUs.toFixed(3)),
    conversion_orders: DPA_ORDERS.length,
    epsilon_dd_improved_delta_1e5: eps.epsilon,
    optimal_order: eps.optimalOrder,
    reference_python_s: REFERENCE_PYTHON_S,
    reference_conversion_us: REFERENCE_CONVERSION_US,
    speedup_dd_rdp: Number(((REFERENCE_PYTHON_S * 1000) / ddMs).toFixed(1)),
    speedup_conversion: Number((REFERENCE_CONVERSION_US / convUs).toFixed(1)),
    node: process.version,
    checksum: Number.isFinite(sink) ? 'ok' : 'bad',
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
