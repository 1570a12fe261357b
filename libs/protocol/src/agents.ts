import type { ProtocolVersion } from './version';

export type AgentStatus = 'active' | 'revoked';

interface AgentIdentityFields {
  id: string;
  institutionId: string;
  name: string | null;
  /** Current Ed25519 key, base64. */
  signingPublicKey: string;
  /** SHA-256 of the raw signing key, hex: compare it with `concord-agent` output on site. */
  signingKeyFingerprint: string;
  /** Current X25519 key, base64. */
  boxPublicKey: string;
  teachers: number | null;
  /** ISO 8601. */
  createdAt: string;
  rotatedAt: string | null;
}

/** An enrolled agent as the coordinator describes it; `status` decides which fields are set. */
export type AgentIdentity =
  | (AgentIdentityFields & { status: 'active'; revokedAt: null; revokedReason: null })
  | (AgentIdentityFields & { status: 'revoked'; revokedAt: string; revokedReason: string });

/** The coordinator's public keys, for agents. */
export interface CoordinatorIdentity {
  protocolVersion: ProtocolVersion;
  /** Ed25519: signs the ledger; enrollment and rotation proofs bind it. */
  signingPublicKey: string;
  signingKeyFingerprint: string;
  /** X25519: agents seal their answers to it. */
  boxPublicKey: string;
  /**
   * base64 Ed25519 signature by `signingPublicKey` of the box key statement (`concord-box-key-v1`,
   * see box-key.ts). An agent verifies it against the signing key it pinned before sealing anything
   * to `boxPublicKey`. Absent from coordinators older than this field: agents then refuse.
   */
  boxKeySignature?: string;
}

/** `GET /agents/me`. */
export interface AgentSelf {
  protocolVersion: ProtocolVersion;
  agent: AgentIdentity;
  institution: { id: string; name: string; status: string };
  coordinator: CoordinatorIdentity;
}
