import { Command } from 'commander';
import { AGENT_VERSION } from './version';

/**
 * `concord-agent`: the on-premises agent a bank or hospital runs inside its own network.
 * Commands are added as they are built (see docs/operations.md); each one states what it reads,
 * what it writes and what, if anything, leaves the site.
 */
export function buildProgram(): Command {
  return new Command('concord-agent')
    .description('Concord on-premises agent: trains teachers locally and answers label queries without sending raw data')
    .version(AGENT_VERSION, '-v, --version');
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`concord-agent: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
