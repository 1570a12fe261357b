import { Command } from 'commander';
import { auditCommand } from './cli/audit.command';
import { budgetCommand } from './cli/budget.command';
import { type CliEnvironment, defaultEnvironment } from './cli/context';
import { dataCommand } from './cli/data.command';
import { enrollCommand } from './cli/enroll.command';
import { AgentError, EXIT } from './cli/errors';
import { initCommand } from './cli/init.command';
import { runCommand } from './cli/run.command';
import { statusCommand } from './cli/status.command';
import { trainCommand } from './cli/train.command';
import { AGENT_VERSION } from './version';

/**
 * `concord-agent`: the on-premises agent a bank or hospital runs inside its own network.
 * Each command states what it reads, what it writes and what, if anything, leaves the site
 * (docs/operations.md, "Running the agent").
 *
 * With an injected environment (tests) errors reject `parseAsync` as usual. Without one (the
 * process entry points, bin/concord-agent.js included, which call `buildProgram().parseAsync()`)
 * the program owns the process: SIGTERM/SIGINT abort the run loop, which finishes the request in
 * hand and returns (exit 0; a second signal exits at once), and an AgentError sets its exit status.
 */
export function buildProgram(environment?: Partial<CliEnvironment>): Command {
  if (environment !== undefined) return createProgram({ ...defaultEnvironment(environment.signal), ...environment });
  const controller = new AbortController();
  const program = createProgram(defaultEnvironment(controller.signal));
  const parse = program.parseAsync.bind(program);
  program.parseAsync = async (argv, options) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
      process.stderr.write(`concord-agent: ${signal} received, finishing the current request\n`);
      controller.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      await parse(argv, options);
    } catch (error) {
      process.stderr.write(`concord-agent: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = error instanceof AgentError ? error.exitCode : EXIT.failure;
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    return program;
  };
  return program;
}

function createProgram(env: CliEnvironment): Command {
  return new Command('concord-agent')
    .description('Concord on-premises agent: trains teachers locally and answers label queries without sending raw data')
    .version(AGENT_VERSION, '-v, --version')
    .addCommand(initCommand(env))
    .addCommand(enrollCommand(env))
    .addCommand(budgetCommand(env))
    .addCommand(runCommand(env))
    .addCommand(auditCommand(env))
    .addCommand(statusCommand(env))
    .addCommand(dataCommand(env))
    .addCommand(trainCommand(env));
}

if (require.main === module) {
  void buildProgram().parseAsync(process.argv);
}
