import { AgentError, EXIT } from '../cli/errors';
import { isErrno, readJsonFile, writeFileAtomic } from './files';

/** The local privacy cap: the agent answers no batch that would take ε (at `delta`) above `epsilon`. */
export interface LocalCap {
  epsilon: number;
  delta: number;
  setAt: string;
}

/** What `enroll` learned and pinned. */
export interface Enrollment {
  coordinatorUrl: string;
  agentId: string;
  institutionId: string;
  /** base64 Ed25519: the coordinator's identity as pinned at enrollment. */
  coordinatorSigningPublicKey: string;
  /** base64 X25519: answers are sealed to this key. */
  coordinatorBoxPublicKey: string;
  /**
   * base64: the coordinator signing key's signature of the box key statement (libs/protocol
   * box-key.ts), checked before every use. Absent in configurations written before box keys were
   * signed: `run` then fetches the box key again and keeps it only if its signature verifies.
   */
  coordinatorBoxKeySignature?: string;
  /** k declared at enrollment, if any. */
  teachers: number | null;
  enrolledAt: string;
}

/** Where the teachers are; `run` flags override it. */
export type TeacherSource = { kind: 'dir'; path: string } | { kind: 'module'; path: string } | { kind: 'url'; url: string };

/** `agent.json`: not secret, but written 0600 like everything in the agent's directory. */
export interface AgentConfig {
  version: 1;
  createdAt: string;
  /** Default coordinator URL (set by `init --url` or `enroll`). */
  coordinatorUrl: string | null;
  enrollment: Enrollment | null;
  cap: LocalCap | null;
  teachers: TeacherSource | null;
}

export function newConfig(coordinatorUrl: string | null, teachers: TeacherSource | null, now = new Date()): AgentConfig {
  return { version: 1, createdAt: now.toISOString(), coordinatorUrl, enrollment: null, cap: null, teachers };
}

export async function readConfig(path: string): Promise<AgentConfig> {
  let json: unknown;
  try {
    json = await readJsonFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw new AgentError(`${path} not found: run \`concord-agent init\` first`, EXIT.configuration);
    throw error;
  }
  if (typeof json !== 'object' || json === null || (json as { version?: unknown }).version !== 1) {
    throw new AgentError(`${path}: not an agent configuration of version 1`, EXIT.configuration);
  }
  const config = json as AgentConfig;
  return {
    ...config,
    coordinatorUrl: config.coordinatorUrl ?? null,
    enrollment: config.enrollment ?? null,
    cap: config.cap ?? null,
    teachers: config.teachers ?? null,
  };
}

export async function writeConfig(path: string, config: AgentConfig): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(config, null, 2)}\n`);
}

export function requireEnrollment(config: AgentConfig, path: string): Enrollment {
  if (config.enrollment === null) {
    throw new AgentError(
      `not enrolled (${path} has no enrollment): run \`concord-agent enroll --url U --token T\` first`,
      EXIT.configuration,
    );
  }
  return config.enrollment;
}
