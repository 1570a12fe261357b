import { Command } from 'commander';
import { readConfig, writeConfig } from '../store/config';
import { LocalPrivacyLedger } from '../store/privacy-ledger';
import { type CliEnvironment, line, parsePositiveNumber, pathsFor, withDirOption } from './context';
import { AgentError, EXIT } from './errors';

interface BudgetOptions {
  dir?: string;
  cap?: string;
  delta?: string;
}

/** `budget`: sets (or shows) the local cap the agent enforces on itself, whatever the coordinator asks. */
export function budgetCommand(env: CliEnvironment): Command {
  return withDirOption(new Command('budget'))
    .description('set or show the local privacy cap (ε at δ) this agent enforces itself')
    .option('--cap <epsilon>', 'the largest ε this site accepts to spend, over all jobs')
    .option('--delta <delta>', 'δ at which ε is computed (e.g. 1e-6)')
    .action(async (options: BudgetOptions) => {
      const paths = pathsFor(options, env);
      const config = await readConfig(paths.config);
      if ((options.cap === undefined) !== (options.delta === undefined)) {
        throw new AgentError('give both --cap and --delta (or neither, to show the cap)', EXIT.configuration);
      }
      if (options.cap !== undefined && options.delta !== undefined) {
        const epsilon = parsePositiveNumber(options.cap, '--cap');
        const delta = parsePositiveNumber(options.delta, '--delta');
        if (delta >= 1) throw new AgentError(`--delta ${options.delta}: must be below 1`, EXIT.configuration);
        config.cap = { epsilon, delta, setAt: new Date().toISOString() };
        await writeConfig(paths.config, config);
      }
      if (config.cap === null) {
        line(env, 'no local cap set: `run` refuses to answer until one is (concord-agent budget --cap E --delta D)');
        return;
      }
      const ledger = await LocalPrivacyLedger.open(paths.ledger);
      const spent = ledger.epsilonSpent(config.cap.delta);
      line(env, `local cap: ε ≤ ${config.cap.epsilon} at δ = ${config.cap.delta}`);
      line(env, `spent:     ε = ${spent.toFixed(6)} over ${ledger.all.length} batch(es)`);
      line(env, `remaining: ε = ${Math.max(0, config.cap.epsilon - spent).toFixed(6)}`);
    });
}
