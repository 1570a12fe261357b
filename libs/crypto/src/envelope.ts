/**
 * Sealed-and-signed envelopes for agent → coordinator answers.
 *
 * Sealing: a fresh X25519 key pair per envelope and `nacl.box` (XSalsa20-Poly1305) to the
 * coordinator's box key with a random 24-byte nonce. Signing: Ed25519 by the agent's enrolled key
 * over a canonical byte string of every envelope field, the recipient's box key, and the
 * *context* (batch id, replay nonce, anything else the caller adds). The context is not sent in
 * the envelope: the receiver supplies what it expects from its own state, so an answer sealed for
 * one batch fails verification in any other.
 *
 * Encrypt-then-sign lets anyone who sees an envelope strip the signature and sign the same
 * ciphertext as themselves (Davis, "Defective Sign & Encrypt", 2001) — here, another agent could
 * resubmit a victim's votes as its own. So the plaintext also carries the signer's public key and
 * a hash of the context, and `openEnvelope` checks both against the outer signature's.
 *
 * Signed bytes (what an auditor re-computes):
 *   UTF-8("concord-envelope-v1\n") ‖ canonicalJson({
 *     alg, ciphertext, context, ephemeralPublicKey, nonce, recipientBoxPublicKey, version })
 * with the binary fields as the same canonical base64 strings as on the wire.
 *
 * Plaintext layout inside the box:
 *   [0]      inner format, 0x01
 *   [1]      payload kind: 0x01 raw bytes, 0x02 canonical JSON (UTF-8)
 *   [2..34)  signer Ed25519 public key
 *   [34..66) SHA-256 of canonicalJson(context)
 *   [66..)   payload
 *
 * Not hidden: the payload's length (pad or use fixed-width encodings if it matters) and the fact
 * that this agent sent something. No forward secrecy for the recipient's key: whoever later
 * obtains the coordinator's box secret key can open every stored envelope.
 */
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import {
  abytes,
  base64ToBytes,
  bytesToBase64,
  bytesToUtf8,
  concatBytes,
  CryptoInputError,
  equalBytes,
  isBytes,
  utf8ToBytes,
} from './bytes';
import { canonicalJson, canonicalJsonBytes } from './canonical-json';
import { X25519_PUBLIC_KEY_LENGTH, X25519_SECRET_KEY_LENGTH } from './keys';
import { assertConsistentSigningKey, ED25519_PUBLIC_KEY_LENGTH, ED25519_SIGNATURE_LENGTH, sign, verify } from './signature';

export const ENVELOPE_VERSION = 1;
export const ENVELOPE_ALG = 'x25519-xsalsa20-poly1305+ed25519';
const SIGNING_DOMAIN = 'concord-envelope-v1\n';

const INNER_FORMAT = 0x01;
const KIND_BYTES = 0x01;
const KIND_JSON = 0x02;
const INNER_HEADER_LENGTH = 2 + ED25519_PUBLIC_KEY_LENGTH + 32;
const BOX_NONCE_LENGTH = nacl.box.nonceLength;
const BOX_OVERHEAD = nacl.box.overheadLength;

/**
 * What the signature binds besides the ciphertext. `batchId` and `nonce` are required; `nonce` is
 * the replay nonce of the answer (issued by the coordinator, or chosen by the agent and checked
 * for reuse by the caller) — not the 24-byte box nonce in the envelope.
 */
export interface EnvelopeContext {
  batchId: string;
  nonce: string;
  [field: string]: string | number | boolean;
}

export interface Envelope {
  version: 1;
  alg: typeof ENVELOPE_ALG;
  /** base64, 32 bytes */
  ephemeralPublicKey: string;
  /** base64, 24 bytes (the box nonce) */
  nonce: string;
  /** base64 */
  ciphertext: string;
  /** base64, 64 bytes */
  signature: string;
  /** base64, 32 bytes; informational, always checked against the expected signer */
  signerPublicKey?: string;
}

export interface SealAndSignInput {
  payload: Uint8Array | object;
  recipientBoxPublicKey: Uint8Array;
  /** The sender's Ed25519 secret key (64 bytes, tweetnacl layout). */
  senderSigning: Uint8Array;
  context: EnvelopeContext;
  /** Put the signer's public key in the envelope. Default true. */
  includeSignerPublicKey?: boolean;
}

export type OpenedEnvelope = { kind: 'bytes'; payload: Uint8Array } | { kind: 'json'; payload: unknown };

export type EnvelopeErrorCode =
  | 'malformed'
  | 'unsupported_version'
  | 'unsupported_alg'
  | 'signer_mismatch'
  | 'bad_signature'
  | 'sealed_header_mismatch'
  | 'decryption_failed';

/** A received envelope that cannot be accepted. `field` names the envelope field at fault. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';

  constructor(
    readonly code: EnvelopeErrorCode,
    readonly field: string,
    detail: string,
  ) {
    super(`${field}: ${detail} (${code})`);
  }
}

function checkContext(context: unknown, name: string): EnvelopeContext {
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new CryptoInputError(name, 'expected an object');
  }
  const record = context as Record<string, unknown>;
  for (const field of ['batchId', 'nonce']) {
    const value = record[field];
    if (typeof value !== 'string' || value.length === 0) {
      throw new CryptoInputError(`${name}.${field}`, 'expected a non-empty string');
    }
  }
  for (const [field, value] of Object.entries(record)) {
    if (typeof value !== 'string' && typeof value !== 'boolean' && typeof value !== 'number') {
      throw new CryptoInputError(`${name}.${field}`, 'expected a string, number or boolean');
    }
  }
  // canonicalJson rejects non-finite numbers and non-plain objects.
  canonicalJson(record);
  return record as EnvelopeContext;
}

function signedBytes(fields: {
  ephemeralPublicKey: string;
  nonce: string;
  ciphertext: string;
  recipientBoxPublicKey: string;
  context: EnvelopeContext;
}): Uint8Array {
  return concatBytes(utf8ToBytes(SIGNING_DOMAIN), canonicalJsonBytes({ version: ENVELOPE_VERSION, alg: ENVELOPE_ALG, ...fields }));
}

function contextHash(context: EnvelopeContext): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonicalJsonBytes(context)).digest());
}

/** Seals `payload` to the recipient's box key and signs the result with the sender's key. */
export function sealAndSign(input: SealAndSignInput): Envelope {
  const recipient = abytes(input.recipientBoxPublicKey, X25519_PUBLIC_KEY_LENGTH, 'recipientBoxPublicKey');
  const signerPublicKey = assertConsistentSigningKey(input.senderSigning, 'senderSigning');
  const context = checkContext(input.context, 'context');

  let kind: number;
  let payloadBytes: Uint8Array;
  if (isBytes(input.payload)) {
    kind = KIND_BYTES;
    payloadBytes = input.payload;
  } else if (typeof input.payload === 'object' && input.payload !== null) {
    kind = KIND_JSON;
    payloadBytes = canonicalJsonBytes(input.payload);
  } else {
    throw new CryptoInputError('payload', 'expected Uint8Array or a JSON object');
  }

  const plaintext = concatBytes(Uint8Array.of(INNER_FORMAT, kind), signerPublicKey, contextHash(context), payloadBytes);
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(BOX_NONCE_LENGTH);
  const ciphertext = nacl.box(plaintext, nonce, recipient, ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  plaintext.fill(0);

  const fields = {
    ephemeralPublicKey: bytesToBase64(ephemeral.publicKey),
    nonce: bytesToBase64(nonce),
    ciphertext: bytesToBase64(ciphertext),
  };
  const signature = sign(signedBytes({ ...fields, recipientBoxPublicKey: bytesToBase64(recipient), context }), input.senderSigning);
  const envelope: Envelope = {
    version: ENVELOPE_VERSION,
    alg: ENVELOPE_ALG,
    ...fields,
    signature: bytesToBase64(signature),
  };
  if (input.includeSignerPublicKey !== false) {
    envelope.signerPublicKey = bytesToBase64(signerPublicKey);
  }
  return envelope;
}

const ENVELOPE_FIELDS = new Set(['version', 'alg', 'ephemeralPublicKey', 'nonce', 'ciphertext', 'signature', 'signerPublicKey']);

function decodeField(record: Record<string, unknown>, field: string, length?: number): Uint8Array {
  try {
    return base64ToBytes(record[field], `envelope.${field}`, length);
  } catch (error) {
    if (error instanceof CryptoInputError) {
      throw new EnvelopeError('malformed', `envelope.${field}`, error.detail);
    }
    throw error;
  }
}

/**
 * Validates every field of a received envelope, verifies its signature against the expected
 * signer and context, and only then decrypts. Returns the payload as bytes or as parsed JSON.
 * Throws `EnvelopeError` (naming the field) for anything wrong with the envelope, and
 * `CryptoInputError` for wrong arguments of the caller's own.
 */
export function openEnvelope(
  envelope: unknown,
  recipientBoxSecretKey: Uint8Array,
  expectedSignerPublicKey: Uint8Array,
  expectedContext: EnvelopeContext,
): OpenedEnvelope {
  abytes(recipientBoxSecretKey, X25519_SECRET_KEY_LENGTH, 'recipientBoxSecretKey');
  abytes(expectedSignerPublicKey, ED25519_PUBLIC_KEY_LENGTH, 'expectedSignerPublicKey');
  const context = checkContext(expectedContext, 'expectedContext');

  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new EnvelopeError('malformed', 'envelope', 'expected a JSON object');
  }
  const record = envelope as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    if (!ENVELOPE_FIELDS.has(field)) {
      throw new EnvelopeError('malformed', `envelope.${field}`, 'unexpected field');
    }
  }
  if (record.version !== ENVELOPE_VERSION) {
    throw new EnvelopeError(
      typeof record.version === 'number' ? 'unsupported_version' : 'malformed',
      'envelope.version',
      `expected ${ENVELOPE_VERSION}`,
    );
  }
  if (record.alg !== ENVELOPE_ALG) {
    throw new EnvelopeError(typeof record.alg === 'string' ? 'unsupported_alg' : 'malformed', 'envelope.alg', `expected ${ENVELOPE_ALG}`);
  }
  const ephemeralPublicKey = decodeField(record, 'ephemeralPublicKey', X25519_PUBLIC_KEY_LENGTH);
  const nonce = decodeField(record, 'nonce', BOX_NONCE_LENGTH);
  const ciphertext = decodeField(record, 'ciphertext');
  if (ciphertext.length < BOX_OVERHEAD + INNER_HEADER_LENGTH) {
    throw new EnvelopeError('malformed', 'envelope.ciphertext', 'too short');
  }
  const signature = decodeField(record, 'signature', ED25519_SIGNATURE_LENGTH);
  if (record.signerPublicKey !== undefined) {
    const claimed = decodeField(record, 'signerPublicKey', ED25519_PUBLIC_KEY_LENGTH);
    if (!equalBytes(claimed, expectedSignerPublicKey)) {
      throw new EnvelopeError('signer_mismatch', 'envelope.signerPublicKey', 'not the expected signer');
    }
  }

  const recipientBoxPublicKey = nacl.scalarMult.base(recipientBoxSecretKey);
  const message = signedBytes({
    ephemeralPublicKey: record.ephemeralPublicKey as string,
    nonce: record.nonce as string,
    ciphertext: record.ciphertext as string,
    recipientBoxPublicKey: bytesToBase64(recipientBoxPublicKey),
    context,
  });
  if (!verify(message, signature, expectedSignerPublicKey)) {
    throw new EnvelopeError('bad_signature', 'envelope.signature', 'does not verify for the expected signer, recipient and context');
  }

  const plaintext = nacl.box.open(ciphertext, nonce, ephemeralPublicKey, recipientBoxSecretKey);
  if (plaintext === null) {
    throw new EnvelopeError('decryption_failed', 'envelope.ciphertext', 'authentication failed');
  }
  // A validly signed envelope whose sealed header disagrees was signed over a ciphertext sealed by
  // someone else, or for another context (see the module comment).
  if (
    plaintext[0] !== INNER_FORMAT ||
    !equalBytes(plaintext.subarray(2, 2 + ED25519_PUBLIC_KEY_LENGTH), expectedSignerPublicKey) ||
    !equalBytes(plaintext.subarray(2 + ED25519_PUBLIC_KEY_LENGTH, INNER_HEADER_LENGTH), contextHash(context))
  ) {
    throw new EnvelopeError(
      'sealed_header_mismatch',
      'envelope.ciphertext',
      'sealed for a different signer or context than the one that signed it',
    );
  }
  const kind = plaintext[1];
  const payload = plaintext.slice(INNER_HEADER_LENGTH);
  plaintext.fill(0);
  switch (kind) {
    case KIND_BYTES:
      return { kind: 'bytes', payload };
    case KIND_JSON:
      try {
        return { kind: 'json', payload: JSON.parse(bytesToUtf8(payload, 'payload')) as unknown };
      } catch {
        throw new EnvelopeError('malformed', 'envelope.ciphertext', 'payload is not valid JSON');
      }
    default:
      throw new EnvelopeError('malformed', 'envelope.ciphertext', 'unknown payload kind');
  }
}
