/**
 * npm run --silent vectors -- <dir> [--emit <outdir>]
 *
 * Evaluates every reference-vector file in <dir> (schema of the vectors README), prints one line
 * per file and `N passed, M failed` (cases), exits 1 if any case fails. --emit writes, for every
 * input file, the same cases with `expected` replaced by the values this library computes.
 *
 * Rules: conversions are checked on the reference RDP arrays (1e-12 relative, same optimal order)
 * and end to end on ours; dp_accounting's fractional-order RDP with q < 1 is a looser bound than
 * the exact series computed here, so there ours must be ≤ the reference and end-to-end ε/δ must
 * be ≤ the reference's (optimal order not compared end to end). gaussian_pld_dp_accounting is
 * reported, not counted.
 */
import { evaluateVectorsDir, formatReport } from '../vectors/evaluate';

function main(argv: string[]): number {
  let dir: string | undefined;
  let emit: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--emit') emit = argv[++i];
    else if (argv[i] === '--help' || argv[i] === '-h') {
      process.stdout.write('usage: vectors <dir> [--emit <outdir>]\n');
      return 0;
    } else dir = argv[i];
  }
  if (!dir) {
    process.stderr.write('usage: vectors <dir> [--emit <outdir>]\n');
    return 2;
  }
  if (emit === undefined && argv.includes('--emit')) {
    process.stderr.write('--emit needs an output directory\n');
    return 2;
  }
  const report = evaluateVectorsDir(dir, emit);
  process.stdout.write(
    'rules: conversions on reference RDP 1e-12 rel + same order; RDP int 1e-8, frac vs TFP 1e-8 or steps*1e-13/(a-1) abs (TFP stops at e^-30), ' +
      'dp_accounting frac (q<1): ours <= ref (exact series), end-to-end eps/delta <= ref; PATE 1e-10; LS 1e-6 rel / 1e-15 abs\n',
  );
  process.stdout.write(formatReport(report) + '\n');
  return report.failed > 0 ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
