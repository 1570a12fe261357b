/**
 * Enrollment and key rotation: the messages an agent sends to prove it holds the keys it enrolls.
 *
 * ## Enrollment proof
 *
 * The agent signs, with the Ed25519 key it enrolls:
 *
 *   "concord-enrollment-v1\n" ‖ canonicalJson({
 *     protocolVersion: 1,
 *     coordinatorSigningPublicKey,   // base64: the coordinator's identity (GET /ledger/public-key)
 *     tokenSha256,                   // lowercase hex SHA-256 of the token's UTF-8 bytes
 *     signingPublicKey, boxPublicKey,// base64, 32 bytes each: the keys being enrolled
 *     agentName, teachers })         // as sent, or null when absent
 *
 * and sends the signature as `proof` (base64, 64 bytes). The proof binds the keys to one token
 * and one coordinator: it cannot enroll other keys, nor be replayed to another coordinator, and it
 * contains only the token's hash, so a logged proof does not leak the token. The token is single
 * use; the proof alone is worthless once the token is consumed.
 *
 * ## Key rotation proof
 *
 * The rotation request is itself a signed agent request (signed with the *current* key, see
 * `signedFetch`); its `proof` is made with the *new* signing key over
 *
 *   "concord-key-rotation-v1\n" ‖ canonicalJson({
 *     protocolVersion: 1, coordinatorSigningPublicKey, agentId,
 *     previousSigningPublicKey, signingPublicKey, boxPublicKey })
 *
 * so the coordinator knows that the holder of the old key asked for the change and the holder of
 * the new key agreed to it.
 *
 * Canonical JSON is `@concord/crypto`'s (RFC 8785-compatible); base64 is standard, padded and
 * canonical.
 */
import { createHash } from 'node:crypto';
import { base64ToBytes, bytesToBase64, canonicalJsonBytes, concatBytes, type Identity, sign, utf8ToBytes, verify } from '@concord/crypto';
import {
  checkBase64Bytes,
  checkKnownFields,
  checkOptionalInteger,
  checkOptionalText,
  FieldErrors,
  isRecord,
  type Validated,
} from './validation';
import { PROTOCOL_VERSION, type ProtocolVersion } from './version';

export const ENROLLMENT_PROOF_LABEL = 'concord-enrollment-v1';
export const KEY_ROTATION_PROOF_LABEL = 'concord-key-rotation-v1';

/** `cet_` and 43 base64url characters: 256 random bits from the coordinator's CSPRNG. */
export const ENROLLMENT_TOKEN_PATTERN = /^cet_[A-Za-z0-9_-]{43}$/;
export const MAX_AGENT_NAME_LENGTH = 200;
export const MAX_TEACHERS = 10_000;

const PUBLIC_KEY_LENGTH = 32;
const SIGNATURE_LENGTH = 64;

/** `POST /agents/enroll`. */
export interface EnrollmentRequest {
  /** Optional; when present it must be the version this agent speaks, 1. */
  protocolVersion?: ProtocolVersion;
  token: string;
  signingPublicKey: string;
  boxPublicKey: string;
  agentName?: string;
  teachers?: number;
  proof: string;
}

/** The answer to a successful enrollment. */
export interface EnrollmentResponse {
  protocolVersion: ProtocolVersion;
  agentId: string;
  institutionId: string;
  coordinatorSigningPublicKey: string;
  coordinatorBoxPublicKey: string;
  /**
   * base64 signature by `coordinatorSigningPublicKey` of the box key statement for
   * `coordinatorBoxPublicKey` (box-key.ts). Optional in form; the agent requires and verifies it.
   */
  coordinatorBoxKeySignature?: string;
}

/** `POST /agents/me/keys/rotate` (a signed agent request). */
export interface KeyRotationRequest {
  signingPublicKey: string;
  boxPublicKey: string;
  proof: string;
}

/** SHA-256 of the token's UTF-8 bytes, lowercase hex: what the coordinator stores and the proof binds. */
export function enrollmentTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function labelled(label: string, claims: Record<string, string | number | null>): Uint8Array {
  return concatBytes(utf8ToBytes(`${label}\n`), canonicalJsonBytes(claims));
}

export interface EnrollmentProofClaims {
  coordinatorSigningPublicKey: string;
  tokenSha256: string;
  signingPublicKey: string;
  boxPublicKey: string;
  agentName?: string | null;
  teachers?: number | null;
}

/** The exact bytes an enrollment proof signs (see the module comment). */
export function enrollmentProofMessage(claims: EnrollmentProofClaims): Uint8Array {
  return labelled(ENROLLMENT_PROOF_LABEL, {
    protocolVersion: PROTOCOL_VERSION,
    coordinatorSigningPublicKey: claims.coordinatorSigningPublicKey,
    tokenSha256: claims.tokenSha256,
    signingPublicKey: claims.signingPublicKey,
    boxPublicKey: claims.boxPublicKey,
    agentName: claims.agentName ?? null,
    teachers: claims.teachers ?? null,
  });
}

export interface BuildEnrollmentInput {
  token: string;
  /** The coordinator's signing key, base64, obtained out of band or from GET /ledger/public-key. */
  coordinatorSigningPublicKey: string;
  identity: Identity;
  agentName?: string;
  teachers?: number;
}

/** The complete, signed body of `POST /agents/enroll`. */
export function buildEnrollmentRequest(input: BuildEnrollmentInput): EnrollmentRequest {
  const signingPublicKey = bytesToBase64(input.identity.signing.publicKey);
  const boxPublicKey = bytesToBase64(input.identity.box.publicKey);
  const message = enrollmentProofMessage({
    coordinatorSigningPublicKey: input.coordinatorSigningPublicKey,
    tokenSha256: enrollmentTokenSha256(input.token),
    signingPublicKey,
    boxPublicKey,
    agentName: input.agentName,
    teachers: input.teachers,
  });
  return {
    protocolVersion: PROTOCOL_VERSION,
    token: input.token,
    signingPublicKey,
    boxPublicKey,
    ...(input.agentName !== undefined ? { agentName: input.agentName } : {}),
    ...(input.teachers !== undefined ? { teachers: input.teachers } : {}),
    proof: bytesToBase64(sign(message, input.identity.signing.secretKey)),
  };
}

/** True if `request.proof` is the enrolled signing key's signature of the enrollment claims. */
export function verifyEnrollmentProof(request: EnrollmentRequest, coordinatorSigningPublicKey: string): boolean {
  const message = enrollmentProofMessage({
    coordinatorSigningPublicKey,
    tokenSha256: enrollmentTokenSha256(request.token),
    signingPublicKey: request.signingPublicKey,
    boxPublicKey: request.boxPublicKey,
    agentName: request.agentName,
    teachers: request.teachers,
  });
  return verify(
    message,
    base64ToBytes(request.proof, 'proof', SIGNATURE_LENGTH),
    base64ToBytes(request.signingPublicKey, 'signingPublicKey', PUBLIC_KEY_LENGTH),
  );
}

export interface KeyRotationClaims {
  coordinatorSigningPublicKey: string;
  agentId: string;
  previousSigningPublicKey: string;
  signingPublicKey: string;
  boxPublicKey: string;
}

/** The exact bytes a key rotation proof signs (see the module comment). */
export function keyRotationProofMessage(claims: KeyRotationClaims): Uint8Array {
  return labelled(KEY_ROTATION_PROOF_LABEL, {
    protocolVersion: PROTOCOL_VERSION,
    coordinatorSigningPublicKey: claims.coordinatorSigningPublicKey,
    agentId: claims.agentId,
    previousSigningPublicKey: claims.previousSigningPublicKey,
    signingPublicKey: claims.signingPublicKey,
    boxPublicKey: claims.boxPublicKey,
  });
}

export interface BuildKeyRotationInput {
  coordinatorSigningPublicKey: string;
  agentId: string;
  previousSigningPublicKey: string;
  /** The new identity; its signing key makes the proof. */
  identity: Identity;
}

/** The body of `POST /agents/me/keys/rotate`; send it with `signedFetch` under the *current* key. */
export function buildKeyRotationRequest(input: BuildKeyRotationInput): KeyRotationRequest {
  const signingPublicKey = bytesToBase64(input.identity.signing.publicKey);
  const boxPublicKey = bytesToBase64(input.identity.box.publicKey);
  const message = keyRotationProofMessage({
    coordinatorSigningPublicKey: input.coordinatorSigningPublicKey,
    agentId: input.agentId,
    previousSigningPublicKey: input.previousSigningPublicKey,
    signingPublicKey,
    boxPublicKey,
  });
  return { signingPublicKey, boxPublicKey, proof: bytesToBase64(sign(message, input.identity.signing.secretKey)) };
}

export function verifyKeyRotationProof(
  request: KeyRotationRequest,
  context: { coordinatorSigningPublicKey: string; agentId: string; previousSigningPublicKey: string },
): boolean {
  const message = keyRotationProofMessage({ ...context, signingPublicKey: request.signingPublicKey, boxPublicKey: request.boxPublicKey });
  return verify(
    message,
    base64ToBytes(request.proof, 'proof', SIGNATURE_LENGTH),
    base64ToBytes(request.signingPublicKey, 'signingPublicKey', PUBLIC_KEY_LENGTH),
  );
}

function checkBoxKey(value: unknown, field: string, errors: FieldErrors): string | undefined {
  const key = checkBase64Bytes(value, field, PUBLIC_KEY_LENGTH, errors);
  // The all-zero X25519 key is a low-order point: every shared secret with it is zero.
  if (key !== undefined && base64ToBytes(key, field, PUBLIC_KEY_LENGTH).every((b) => b === 0)) {
    errors.add(field, 'must not be the all-zero key');
    return undefined;
  }
  return key;
}

const ENROLLMENT_FIELDS = ['protocolVersion', 'token', 'signingPublicKey', 'boxPublicKey', 'agentName', 'teachers', 'proof'] as const;

/**
 * Checks an enrollment request's form: every field's type, encoding and decoded length. Does not
 * check the proof's signature (that needs the coordinator's key: `verifyEnrollmentProof`).
 */
export function validateEnrollmentRequest(input: unknown): Validated<EnrollmentRequest> {
  const errors = new FieldErrors();
  if (!isRecord(input)) {
    errors.add('(body)', 'must be a JSON object');
    return errors.failure();
  }
  checkKnownFields(input, ENROLLMENT_FIELDS, errors);
  if (input.protocolVersion !== undefined && input.protocolVersion !== PROTOCOL_VERSION) {
    errors.add('protocolVersion', `must be ${PROTOCOL_VERSION}, the version this coordinator speaks`);
  }
  const token = typeof input.token === 'string' && ENROLLMENT_TOKEN_PATTERN.test(input.token) ? input.token : undefined;
  if (token === undefined) errors.add('token', 'must be an enrollment token (cet_ followed by 43 base64url characters)');
  const signingPublicKey = checkBase64Bytes(input.signingPublicKey, 'signingPublicKey', PUBLIC_KEY_LENGTH, errors);
  const boxPublicKey = checkBoxKey(input.boxPublicKey, 'boxPublicKey', errors);
  if (signingPublicKey !== undefined && signingPublicKey === boxPublicKey) {
    errors.add('boxPublicKey', 'must differ from signingPublicKey');
  }
  const agentName = checkOptionalText(input.agentName, 'agentName', MAX_AGENT_NAME_LENGTH, errors);
  const teachers = checkOptionalInteger(input.teachers, 'teachers', 1, MAX_TEACHERS, errors);
  const proof = checkBase64Bytes(input.proof, 'proof', SIGNATURE_LENGTH, errors);
  if (errors.count > 0 || token === undefined || signingPublicKey === undefined || boxPublicKey === undefined || proof === undefined) {
    return errors.failure();
  }
  return {
    ok: true,
    value: {
      ...(input.protocolVersion !== undefined ? { protocolVersion: PROTOCOL_VERSION } : {}),
      token,
      signingPublicKey,
      boxPublicKey,
      ...(agentName !== undefined ? { agentName } : {}),
      ...(teachers !== undefined ? { teachers } : {}),
      proof,
    },
  };
}

const ROTATION_FIELDS = ['signingPublicKey', 'boxPublicKey', 'proof'] as const;

/** Checks a key rotation request's form (not its proof: `verifyKeyRotationProof`). */
export function validateKeyRotationRequest(input: unknown): Validated<KeyRotationRequest> {
  const errors = new FieldErrors();
  if (!isRecord(input)) {
    errors.add('(body)', 'must be a JSON object');
    return errors.failure();
  }
  checkKnownFields(input, ROTATION_FIELDS, errors);
  const signingPublicKey = checkBase64Bytes(input.signingPublicKey, 'signingPublicKey', PUBLIC_KEY_LENGTH, errors);
  const boxPublicKey = checkBoxKey(input.boxPublicKey, 'boxPublicKey', errors);
  if (signingPublicKey !== undefined && signingPublicKey === boxPublicKey) {
    errors.add('boxPublicKey', 'must differ from signingPublicKey');
  }
  const proof = checkBase64Bytes(input.proof, 'proof', SIGNATURE_LENGTH, errors);
  if (errors.count > 0 || signingPublicKey === undefined || boxPublicKey === undefined || proof === undefined) {
    return errors.failure();
  }
  return { ok: true, value: { signingPublicKey, boxPublicKey, proof } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks the coordinator's answer to an enrollment before the agent stores it. */
export function validateEnrollmentResponse(input: unknown): Validated<EnrollmentResponse> {
  const errors = new FieldErrors();
  if (!isRecord(input)) {
    errors.add('(body)', 'must be a JSON object');
    return errors.failure();
  }
  if (input.protocolVersion !== PROTOCOL_VERSION) errors.add('protocolVersion', `must be ${PROTOCOL_VERSION}`);
  for (const field of ['agentId', 'institutionId'] as const) {
    if (typeof input[field] !== 'string' || !UUID.test(input[field])) errors.add(field, 'must be a UUID');
  }
  const coordinatorSigningPublicKey = checkBase64Bytes(input.coordinatorSigningPublicKey, 'coordinatorSigningPublicKey', 32, errors);
  const coordinatorBoxPublicKey = checkBoxKey(input.coordinatorBoxPublicKey, 'coordinatorBoxPublicKey', errors);
  const coordinatorBoxKeySignature =
    input.coordinatorBoxKeySignature === undefined
      ? undefined
      : checkBase64Bytes(input.coordinatorBoxKeySignature, 'coordinatorBoxKeySignature', SIGNATURE_LENGTH, errors);
  if (errors.count > 0 || coordinatorSigningPublicKey === undefined || coordinatorBoxPublicKey === undefined) {
    return errors.failure();
  }
  return {
    ok: true,
    value: {
      protocolVersion: PROTOCOL_VERSION,
      agentId: input.agentId as string,
      institutionId: input.institutionId as string,
      coordinatorSigningPublicKey,
      coordinatorBoxPublicKey,
      ...(coordinatorBoxKeySignature !== undefined ? { coordinatorBoxKeySignature } : {}),
    },
  };
}
