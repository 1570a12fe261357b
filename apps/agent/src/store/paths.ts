import { join, resolve } from 'node:path';

/** The default state directory, relative to where the agent is started, unless CONCORD_AGENT_DIR says otherwise. */
export const DEFAULT_AGENT_DIR = 'concord-agent';

export function resolveAgentDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env.CONCORD_AGENT_DIR ?? DEFAULT_AGENT_DIR);
}

/** Every file the agent keeps; nothing else is written. */
export interface AgentPaths {
  dir: string;
  /** Private keys (Ed25519 + X25519), mode 0600. Never leaves the site. */
  identity: string;
  /** Coordinator URL, agent id, coordinator keys, local cap. */
  config: string;
  /** Local privacy ledger: one JSON line per batch attempt the agent agreed to answer. */
  ledger: string;
  /** Audit log: one JSON line per payload sealed and per coordinator acknowledgement. */
  audit: string;
  /** The sealed answer being sent, kept until the coordinator acknowledges it (resent after a crash). */
  pending: string;
  /** Answers the coordinator rejected as invalid, kept for investigation. */
  rejected: string;
}

export function agentPaths(dir: string): AgentPaths {
  return {
    dir,
    identity: join(dir, 'identity.json'),
    config: join(dir, 'agent.json'),
    ledger: join(dir, 'privacy-ledger.jsonl'),
    audit: join(dir, 'audit.jsonl'),
    pending: join(dir, 'pending-answer.json'),
    rejected: join(dir, 'rejected'),
  };
}
