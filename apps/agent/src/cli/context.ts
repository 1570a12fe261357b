import { readKeyFile, type Identity } from '@concord/crypto';
import type { Command } from 'commander';
import { agentPaths, type AgentPaths, resolveAgentDir } from '../store/paths';
import { isErrno } from '../store/files';
import { AgentError, EXIT } from './errors';

/** What commands touch outside their state directory: injected so tests can watch every byte. */
export interface CliEnvironment {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  /** Aborted on SIGTERM/SIGINT by the entry point; `run` finishes the request in hand and returns. */
  signal: AbortSignal;
}

export function defaultEnvironment(signal: AbortSignal = new AbortController().signal): CliEnvironment {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    fetch: (input, init) => fetch(input, init),
    signal,
  };
}

export function withDirOption(command: Command): Command {
  return command.option('--dir <dir>', 'agent state directory (default $CONCORD_AGENT_DIR or ./concord-agent)');
}

export function pathsFor(options: { dir?: string }, env: CliEnvironment): AgentPaths {
  return agentPaths(resolveAgentDir(options.dir, env.env));
}

export async function loadIdentity(paths: AgentPaths): Promise<Identity> {
  try {
    return await readKeyFile(paths.identity);
  } catch (error) {
    if (isErrno(error, 'ENOENT'))
      throw new AgentError(`${paths.identity} not found: run \`concord-agent init --dir ${paths.dir}\` first`, EXIT.configuration);
    throw new AgentError(error instanceof Error ? error.message : String(error), EXIT.configuration);
  }
}

export function line(env: CliEnvironment, text = ''): void {
  env.stdout(`${text}\n`);
}

export function logLine(env: CliEnvironment, text: string): void {
  env.stderr(`${new Date().toISOString()} concord-agent: ${text}\n`);
}

export function parsePositiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new AgentError(`${flag} ${value}: must be a positive number`, EXIT.configuration);
  return n;
}

export function parsePositiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new AgentError(`${flag} ${value}: must be a positive integer`, EXIT.configuration);
  return n;
}
