/**
 * The version of the agent ↔ coordinator protocol described by this library.
 *
 * Stability contract: within one version, messages and fields are never removed or redefined; a
 * new optional field may be added. Anything else is a new version, and every signed message
 * carries its version in its domain label (`concord-enrollment-v1`, …), so a signature made for
 * one version can never be accepted as another.
 */
export const PROTOCOL_VERSION = 1 as const;
export type ProtocolVersion = typeof PROTOCOL_VERSION;
