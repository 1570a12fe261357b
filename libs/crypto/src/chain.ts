/**
 * The ledger hash chain.
 *
 * Each ledger entry's hash commits to the previous entry's hash and to the canonical JSON of its
 * body; the coordinator signs each hash with its ledger key. Byte layout (also in the README):
 *
 *   hash      = lowercase hex( SHA-256( UTF-8( prevHash ‖ "\n" ‖ canonicalJson(body) ) ) )
 *   signature = base64( Ed25519( UTF-8( "concord-ledger-entry-v1\n" ‖ hash ) ) )
 *
 * Entries appended together (one transaction) may instead be signed together, once: their group
 * digest commits to the set of their hashes, and each entry of the group carries the digest and
 * the one signature of it:
 *
 *   groupDigest = lowercase hex( SHA-256( UTF-8( "concord-ledger-group-v1\n" ‖ h₁ ‖ "\n" ‖ … ‖ "\n" ‖ hₙ ) ) )
 *                 with h₁ < … < hₙ the group's distinct entry hashes, sorted
 *   signature   = base64( Ed25519( UTF-8( "concord-ledger-group-signature-v1\n" ‖ groupDigest ) ) )
 *
 * Each entry's hash still fixes its body and its place in its chain, so the group signature covers
 * every entry of the group; one digest missing an entry, or naming one too many, no longer matches
 * (`verifyGroups`). The three domain labels differ, so no signature verifies as another kind.
 *
 * where prevHash is the previous entry's 64-digit lowercase hex hash, or GENESIS_HASH (64 zeros)
 * for the first entry. `seq` is not hashed separately: put it in the body (verifyChain checks a
 * numeric `body.seq` against the entry's seq) so the hash also fixes each entry's number.
 *
 * A chain proves order and integrity of what it contains. It cannot show that entries were cut
 * off the end: compare the last entry with a head (seq, hash) published or stored elsewhere, via
 * `expectedHead`.
 */
import { createHash } from 'node:crypto';
import { abytes, base64ToBytes, bytesToBase64, CryptoInputError, utf8ToBytes } from './bytes';
import { canonicalJson } from './canonical-json';
import { sign, verify } from './signature';

export const GENESIS_HASH = '0'.repeat(64);
const LEDGER_SIGNING_DOMAIN = 'concord-ledger-entry-v1\n';
const LEDGER_GROUP_DOMAIN = 'concord-ledger-group-v1\n';
const LEDGER_GROUP_SIGNING_DOMAIN = 'concord-ledger-group-signature-v1\n';
const HASH_HEX = /^[0-9a-f]{64}$/;

function checkHash(value: unknown, name: string): string {
  if (typeof value !== 'string' || !HASH_HEX.test(value)) {
    throw new CryptoInputError(name, 'expected 64 lowercase hex digits');
  }
  return value;
}

function checkBody(body: unknown, name: string): object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new CryptoInputError(name, 'expected a JSON object');
  }
  return body;
}

/** SHA-256 hex over `prevHash ‖ "\n" ‖ canonicalJson(body)`, UTF-8. */
export function hashEntry(prevHash: string, body: object): string {
  checkHash(prevHash, 'prevHash');
  checkBody(body, 'body');
  return createHash('sha256')
    .update(`${prevHash}\n${canonicalJson(body)}`, 'utf8')
    .digest('hex');
}

/** The bytes a ledger signature covers: a domain label, then a hash or digest (checked). */
function signingBytes(domain: string, hash: string, name: string): Uint8Array {
  return utf8ToBytes(`${domain}${checkHash(hash, name)}`);
}

/**
 * True if `signature` (base64) is the key's signature of the domain-separated hash. A malformed
 * hash or signature is simply not a valid signature (false); a wrong-length public key throws.
 */
function verifySigned(domain: string, hash: string, name: string, signature: string, publicKey: Uint8Array): boolean {
  let message: Uint8Array;
  let signatureBytes: Uint8Array;
  try {
    message = signingBytes(domain, hash, name);
    signatureBytes = base64ToBytes(signature, 'signature', 64);
  } catch (error) {
    if (error instanceof CryptoInputError) return false;
    throw error;
  }
  return verify(message, signatureBytes, publicKey);
}

/** The coordinator's signature of an entry hash, base64 (64 bytes). */
export function signEntryHash(hash: string, secretKey: Uint8Array): string {
  return bytesToBase64(sign(signingBytes(LEDGER_SIGNING_DOMAIN, hash, 'hash'), secretKey));
}

/**
 * True if `signature` (base64) is the ledger key's signature of `hash`. A malformed hash or
 * signature is simply not a valid signature (false); a wrong-length public key throws.
 */
export function verifyEntrySignature(hash: string, signature: string, publicKey: Uint8Array): boolean {
  return verifySigned(LEDGER_SIGNING_DOMAIN, hash, 'hash', signature, publicKey);
}

/**
 * The group digest of entries appended together: SHA-256 over their distinct hashes, sorted (see
 * the module comment), so it does not depend on the order they are listed in.
 */
export function groupDigest(hashes: readonly string[]): string {
  if (hashes.length === 0) throw new CryptoInputError('hashes', 'a group has at least one entry');
  const sorted = [...new Set(hashes.map((h, i) => checkHash(h, `hashes[${i}]`)))].sort();
  return createHash('sha256')
    .update(`${LEDGER_GROUP_DOMAIN}${sorted.join('\n')}`, 'utf8')
    .digest('hex');
}

/** The coordinator's signature of a group digest, base64 (64 bytes). */
export function signGroupDigest(digest: string, secretKey: Uint8Array): string {
  return bytesToBase64(sign(signingBytes(LEDGER_GROUP_SIGNING_DOMAIN, digest, 'groupDigest'), secretKey));
}

/** True if `signature` (base64) is the ledger key's signature of the group digest; malformed input is false. */
export function verifyGroupSignature(digest: string, signature: string, publicKey: Uint8Array): boolean {
  return verifySigned(LEDGER_GROUP_SIGNING_DOMAIN, digest, 'groupDigest', signature, publicKey);
}

export interface ChainEntry {
  seq: number;
  prevHash: string;
  hash: string;
  /**
   * base64 Ed25519 signature of `hash`, or, when `groupDigest` is set, of the group digest (see
   * the module comment).
   */
  signature: string;
  /** The digest of the group this entry was signed with; absent or null if it was signed alone. */
  groupDigest?: string | null;
  body: unknown;
}

/** Where a chain (or a segment of one) starts: the entry just before its first entry. */
export interface ChainLink {
  seq: number;
  hash: string;
}

/** The virtual entry before the first: the first real entry has seq 1 and prevHash GENESIS_HASH. */
export const GENESIS: ChainLink = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** Builds the next entry after `previous` (GENESIS for the first), hashed and signed. */
export function buildChainEntry(previous: ChainLink, body: object, secretKey: Uint8Array): ChainEntry {
  const prevHash = checkHash(previous.hash, 'previous.hash');
  if (!Number.isSafeInteger(previous.seq) || previous.seq < 0) {
    throw new CryptoInputError('previous.seq', 'expected a non-negative safe integer');
  }
  const hash = hashEntry(prevHash, body);
  return { seq: previous.seq + 1, prevHash, hash, signature: signEntryHash(hash, secretKey), body };
}

export type ChainProblemKind =
  /** seq, prevHash, hash or signature has the wrong type or format. */
  | 'malformed_entry'
  /** The body cannot be canonicalised (NaN, non-plain object, ...). */
  | 'malformed_body'
  /** The stored hash is not the hash of prevHash and body: the body (or prevHash) was changed. */
  | 'hash_mismatch'
  /** prevHash is not the previous entry's hash: an entry was deleted, inserted or moved. */
  | 'prev_hash_mismatch'
  /** seq jumps forward: entries are missing. */
  | 'seq_gap'
  /** seq does not increase: entries are reordered or duplicated. */
  | 'seq_out_of_order'
  /** body.seq is present and differs from the entry's seq. */
  | 'seq_mismatch'
  /** The signature is not the ledger key's signature of the stored hash (or of the entry's group digest). */
  | 'bad_signature'
  /** The last entry is not the expected head: entries were cut off the end (or added). */
  | 'head_mismatch';

export interface ChainProblem {
  /** The seq of the entry at fault (for head_mismatch, the expected head's seq). */
  seq: number;
  /** Position in the array passed to verifyChain (-1 for head_mismatch). */
  index: number;
  problem: ChainProblemKind;
}

export interface ChainVerification {
  ok: boolean;
  problems: ChainProblem[];
  /** The last entry's link, or the anchor for an empty chain. */
  head: ChainLink;
}

export interface VerifyChainOptions {
  /** The link just before the first entry. Default GENESIS (first entry seq 1, prevHash zeros). */
  anchor?: ChainLink;
  /** If given, the last entry must be exactly this one (detects truncation). */
  expectedHead?: ChainLink;
  /**
   * Group signatures already checked, by `groupDigest + " " + signature` (a group's entries share
   * one signature): pass one map to every verifyChain of a ledger to check each group once.
   */
  groupSignatures?: Map<string, boolean>;
}

/**
 * Checks a run of ledger entries in the order given: each entry's seq follows the previous one,
 * its prevHash is the previous hash, its hash is recomputed from prevHash and body, and its
 * signature verifies under `publicKey`. Every problem is reported, not only the first.
 */
export function verifyChain(entries: readonly ChainEntry[], publicKey: Uint8Array, options: VerifyChainOptions = {}): ChainVerification {
  abytes(publicKey, 32, 'publicKey');
  const anchor = options.anchor ?? GENESIS;
  checkHash(anchor.hash, 'anchor.hash');
  if (options.expectedHead !== undefined) checkHash(options.expectedHead.hash, 'expectedHead.hash');
  const problems: ChainProblem[] = [];
  let previous: ChainLink = { seq: anchor.seq, hash: anchor.hash };

  entries.forEach((entry, index) => {
    const report = (problem: ChainProblemKind): void => {
      problems.push({ seq: entry.seq, index, problem });
    };
    if (
      !Number.isSafeInteger(entry.seq) ||
      typeof entry.prevHash !== 'string' ||
      !HASH_HEX.test(entry.prevHash) ||
      typeof entry.hash !== 'string' ||
      !HASH_HEX.test(entry.hash) ||
      typeof entry.signature !== 'string' ||
      (entry.groupDigest !== undefined &&
        entry.groupDigest !== null &&
        (typeof entry.groupDigest !== 'string' || !HASH_HEX.test(entry.groupDigest)))
    ) {
      report('malformed_entry');
      previous = { seq: Number.isSafeInteger(entry.seq) ? entry.seq : previous.seq + 1, hash: String(entry.hash) };
      return;
    }

    if (entry.seq > previous.seq + 1) report('seq_gap');
    else if (entry.seq <= previous.seq) report('seq_out_of_order');

    if (entry.prevHash !== previous.hash) report('prev_hash_mismatch');

    let recomputed: string | undefined;
    try {
      recomputed = hashEntry(entry.prevHash, checkBody(entry.body, 'body'));
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      report('malformed_body');
    }
    if (recomputed !== undefined && recomputed !== entry.hash) report('hash_mismatch');

    const bodySeq: unknown =
      typeof entry.body === 'object' && entry.body !== null ? (entry.body as Record<string, unknown>).seq : undefined;
    if (typeof bodySeq === 'number' && bodySeq !== entry.seq) report('seq_mismatch');

    if (entry.groupDigest === undefined || entry.groupDigest === null) {
      if (!verifyEntrySignature(entry.hash, entry.signature, publicKey)) report('bad_signature');
    } else {
      // That this entry belongs to the digest is checked across chains, by verifyGroups.
      const key = `${entry.groupDigest} ${entry.signature}`;
      let valid = options.groupSignatures?.get(key);
      if (valid === undefined) {
        valid = verifyGroupSignature(entry.groupDigest, entry.signature, publicKey);
        options.groupSignatures?.set(key, valid);
      }
      if (!valid) report('bad_signature');
    }

    previous = { seq: entry.seq, hash: entry.hash };
  });

  if (options.expectedHead !== undefined && (previous.seq !== options.expectedHead.seq || previous.hash !== options.expectedHead.hash)) {
    problems.push({ seq: options.expectedHead.seq, index: -1, problem: 'head_mismatch' });
  }
  return { ok: problems.length === 0, problems, head: previous };
}

/** An entry as `verifyGroups` sees it: its hash, its group digest (if any) and its signature. */
export interface GroupMember {
  hash: string;
  groupDigest?: string | null;
  signature: string;
}

export interface GroupProblem {
  groupDigest: string;
  /** Hashes of the group's entries (those found). */
  hashes: string[];
  problem: 'group_digest_mismatch' | 'group_signature_differs';
}

/**
 * Checks that every group digest is the digest of exactly the entries that carry it — an entry
 * deleted from a group, added to it or moved to another one breaks this — and that the entries of
 * a group carry one signature. Pass EVERY entry of the ledger (groups span chains); entries signed
 * alone are ignored. The signature itself is checked by verifyChain.
 */
export function verifyGroups(entries: Iterable<GroupMember>): GroupProblem[] {
  const groups = new Map<string, { hashes: string[]; signatures: Set<string> }>();
  for (const e of entries) {
    if (e.groupDigest === undefined || e.groupDigest === null) continue;
    let group = groups.get(e.groupDigest);
    if (!group) groups.set(e.groupDigest, (group = { hashes: [], signatures: new Set() }));
    group.hashes.push(e.hash);
    group.signatures.add(e.signature);
  }
  const problems: GroupProblem[] = [];
  for (const [digest, { hashes, signatures }] of groups) {
    let recomputed: string | undefined;
    try {
      recomputed = groupDigest(hashes);
    } catch (error) {
      if (!(error instanceof CryptoInputError)) throw error;
    }
    if (recomputed !== digest) problems.push({ groupDigest: digest, hashes, problem: 'group_digest_mismatch' });
    if (signatures.size > 1) problems.push({ groupDigest: digest, hashes, problem: 'group_signature_differs' });
  }
  return problems;
}
