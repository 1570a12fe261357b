import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  buildChainEntry,
  type ChainEntry,
  type ChainLink,
  GENESIS,
  GENESIS_HASH,
  groupDigest,
  hashEntry,
  signEntryHash,
  signGroupDigest,
  verifyChain,
  verifyEntrySignature,
  verifyGroups,
  verifyGroupSignature,
} from './chain';

const ledgerKey = nacl.sign.keyPair();

function buildChain(length: number, secretKey: Uint8Array = ledgerKey.secretKey): ChainEntry[] {
  const entries: ChainEntry[] = [];
  let previous: ChainLink = GENESIS;
  for (let seq = 1; seq <= length; seq++) {
    const entry = buildChainEntry(
      previous,
      { seq, institution: `bank-${seq % 3}`, event: { kind: 'gnmax', sigma: 40, queries: seq * 10 } },
      secretKey,
    );
    entries.push(entry);
    previous = entry;
  }
  return entries;
}

function problemsOf(entries: ChainEntry[], options = {}) {
  return verifyChain(entries, ledgerKey.publicKey, options).problems.map(({ seq, problem }) => ({ seq, problem }));
}

describe('hashEntry', () => {
  it('is SHA-256 hex of prevHash, a newline and the canonical JSON body (checked with sha256sum)', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    // printf '%s\n%s' 000…000 '{"event":{"kind":"gnmax","sigma":40},"institution":"bank-a","seq":1}' | sha256sum
    expect(hashEntry(GENESIS_HASH, { seq: 1, institution: 'bank-a', event: { sigma: 40, kind: 'gnmax' } })).toBe(
      'd456aa9954e6e531cfad15ee2598113d39d1aa9b8350e618bf922b3aed755910',
    );
    // printf '%s\n%s' 000…000 '{"é":0.1}' | sha256sum  (UTF-8)
    expect(hashEntry(GENESIS_HASH, { é: 0.1 })).toBe('9def5fa83b35baba7b71f640bb759dac8a9d51734f6ff0b544e0a34a2368d4d0');
  });

  it('rejects a malformed previous hash or body', () => {
    expect(() => hashEntry('abc', {})).toThrow(/^prevHash: /);
    expect(() => hashEntry(GENESIS_HASH.toUpperCase().replace(/0/g, 'A'), {})).toThrow(/^prevHash: /);
    expect(() => hashEntry(GENESIS_HASH, [])).toThrow(/^body: /);
    expect(() => hashEntry(GENESIS_HASH, { epsilon: NaN })).toThrow(/^\$\.epsilon: NaN/);
  });
});

describe('entry signatures', () => {
  it('signs the domain-separated hash and verifies', () => {
    const hash = hashEntry(GENESIS_HASH, { seq: 1 });
    const signature = signEntryHash(hash, ledgerKey.secretKey);
    expect(verifyEntrySignature(hash, signature, ledgerKey.publicKey)).toBe(true);
    const message = new TextEncoder().encode(`concord-ledger-entry-v1\n${hash}`);
    expect(nacl.sign.detached.verify(message, Buffer.from(signature, 'base64'), ledgerKey.publicKey)).toBe(true);
  });

  it('fails for another hash, another key, or a malformed signature', () => {
    const hash = hashEntry(GENESIS_HASH, { seq: 1 });
    const signature = signEntryHash(hash, ledgerKey.secretKey);
    expect(verifyEntrySignature(hashEntry(GENESIS_HASH, { seq: 2 }), signature, ledgerKey.publicKey)).toBe(false);
    expect(verifyEntrySignature(hash, signature, nacl.sign.keyPair().publicKey)).toBe(false);
    expect(verifyEntrySignature(hash, 'not base64', ledgerKey.publicKey)).toBe(false);
    expect(verifyEntrySignature('nope', signature, ledgerKey.publicKey)).toBe(false);
    expect(() => verifyEntrySignature(hash, signature, new Uint8Array(3))).toThrow(/^publicKey: /);
  });
});

describe('group signatures', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);

  it('digests the sorted distinct hashes of a group (checked with sha256sum)', () => {
    // printf 'concord-ledger-group-v1\n%s\n%s' aaa…a bbb…b | sha256sum
    expect(groupDigest([a, b])).toBe('e39060f0ccc2b35be8bcff63cebfe9efe82c85932eb35b0c45dcb5f49d1608b6');
    expect(groupDigest([b, a, b])).toBe(groupDigest([a, b]));
    // printf 'concord-ledger-group-v1\n%s' aaa…a | sha256sum
    expect(groupDigest([a])).toBe('9582e28639f63390e8526cf8488c5de221cfdd3d6d06b3991e66c7236860f13f');
    expect(() => groupDigest([])).toThrow(/^hashes: /);
    expect(() => groupDigest([a, 'B'.repeat(64)])).toThrow(/^hashes\[1\]: /);
  });

  it('signs the domain-separated digest; neither kind of signature verifies as the other', () => {
    const digest = groupDigest([a, b]);
    const signature = signGroupDigest(digest, ledgerKey.secretKey);
    expect(verifyGroupSignature(digest, signature, ledgerKey.publicKey)).toBe(true);
    const message = new TextEncoder().encode(`concord-ledger-group-signature-v1\n${digest}`);
    expect(nacl.sign.detached.verify(message, Buffer.from(signature, 'base64'), ledgerKey.publicKey)).toBe(true);
    expect(verifyEntrySignature(digest, signature, ledgerKey.publicKey)).toBe(false);
    expect(verifyGroupSignature(a, signEntryHash(a, ledgerKey.secretKey), ledgerKey.publicKey)).toBe(false);
    expect(verifyGroupSignature(digest, signature, nacl.sign.keyPair().publicKey)).toBe(false);
    expect(verifyGroupSignature(digest, 'not base64', ledgerKey.publicKey)).toBe(false);
  });

  it('lets verifyChain check an entry against its group signature, once per group', () => {
    const chain = buildChain(3);
    const digest = groupDigest(chain.map((e) => e.hash));
    const signature = signGroupDigest(digest, ledgerKey.secretKey);
    const grouped = chain.map((e) => ({ ...e, groupDigest: digest, signature }));
    const seen = new Map<string, boolean>();
    expect(problemsOf(grouped, { groupSignatures: seen })).toEqual([]);
    expect([...seen.entries()]).toEqual([[`${digest} ${signature}`, true]]);
    // Another digest under the same signature, or a digest signed by another key, fails.
    const other = groupDigest([a]);
    expect(problemsOf([grouped[0], { ...grouped[1], groupDigest: other }, grouped[2]])).toEqual([{ seq: 2, problem: 'bad_signature' }]);
    const forged = signGroupDigest(digest, nacl.sign.keyPair().secretKey);
    expect(problemsOf(grouped.map((e) => ({ ...e, signature: forged })))).toEqual(
      [1, 2, 3].map((seq) => ({ seq, problem: 'bad_signature' })),
    );
    expect(problemsOf([{ ...grouped[0], groupDigest: 'xyz' }, grouped[1], grouped[2]])).toEqual([{ seq: 1, problem: 'malformed_entry' }]);
  });

  it('verifyGroups finds an entry missing from, added to or moved between groups', () => {
    const [e1, e2, e3] = buildChain(3);
    const g12 = groupDigest([e1.hash, e2.hash]);
    const s12 = signGroupDigest(g12, ledgerKey.secretKey);
    const g3 = groupDigest([e3.hash]);
    const s3 = signGroupDigest(g3, ledgerKey.secretKey);
    const members = [
      { hash: e1.hash, groupDigest: g12, signature: s12 },
      { hash: e2.hash, groupDigest: g12, signature: s12 },
      { hash: e3.hash, groupDigest: g3, signature: s3 },
      { hash: a, groupDigest: null, signature: 'ignored: signed alone' },
    ];
    expect(verifyGroups(members)).toEqual([]);
    expect(verifyGroups([members[0], members[2]])).toEqual([{ groupDigest: g12, hashes: [e1.hash], problem: 'group_digest_mismatch' }]);
    const moved = verifyGroups([members[0], members[1], { ...members[2], groupDigest: g12 }]).map((p) => p.problem);
    expect(moved).toEqual(['group_digest_mismatch', 'group_signature_differs']);
  });
});

describe('verifyChain', () => {
  it('accepts an intact chain and reports its head', () => {
    const entries = buildChain(5);
    const result = verifyChain(entries, ledgerKey.publicKey);
    expect(result).toEqual({ ok: true, problems: [], head: { seq: 5, hash: entries[4].hash } });
    expect(entries[0].prevHash).toBe(GENESIS_HASH);
    expect(entries[0].seq).toBe(1);
  });

  it('accepts an empty chain', () => {
    expect(verifyChain([], ledgerKey.publicKey)).toEqual({ ok: true, problems: [], head: GENESIS });
  });

  it('detects a changed body', () => {
    const entries = buildChain(5);
    entries[2] = { ...entries[2], body: { ...(entries[2].body as object), institution: 'bank-x' } };
    expect(problemsOf(entries)).toEqual([{ seq: 3, problem: 'hash_mismatch' }]);
  });

  it('detects a changed body whose hash and the next prevHash were recomputed (forged signature)', () => {
    const entries = buildChain(4);
    const body = { ...(entries[1].body as object), event: { kind: 'gnmax', sigma: 400, queries: 20 } };
    const hash = hashEntry(entries[1].prevHash, body);
    entries[1] = { ...entries[1], body, hash };
    const next = { ...(entries[2].body as object) };
    entries[2] = { ...entries[2], prevHash: hash, hash: hashEntry(hash, next) };
    expect(problemsOf(entries)).toEqual([
      { seq: 2, problem: 'bad_signature' },
      { seq: 3, problem: 'bad_signature' },
      { seq: 4, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('detects a signature forged with another key', () => {
    const entries = buildChain(3);
    const forger = nacl.sign.keyPair();
    entries[1] = { ...entries[1], signature: signEntryHash(entries[1].hash, forger.secretKey) };
    expect(problemsOf(entries)).toEqual([{ seq: 2, problem: 'bad_signature' }]);
    expect(verifyChain(buildChain(2, forger.secretKey), ledgerKey.publicKey).ok).toBe(false);
  });

  it('detects a deleted entry in the middle', () => {
    const entries = buildChain(5);
    entries.splice(2, 1);
    expect(problemsOf(entries)).toEqual([
      { seq: 4, problem: 'seq_gap' },
      { seq: 4, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('detects a deleted first entry', () => {
    const entries = buildChain(3).slice(1);
    expect(problemsOf(entries)).toEqual([
      { seq: 2, problem: 'seq_gap' },
      { seq: 2, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('detects a deleted entry even when the remaining ones are renumbered', () => {
    const entries = buildChain(4);
    entries.splice(1, 1);
    entries[1] = { ...entries[1], seq: 2 };
    entries[2] = { ...entries[2], seq: 3 };
    expect(problemsOf(entries)).toEqual([
      { seq: 2, problem: 'prev_hash_mismatch' },
      { seq: 2, problem: 'seq_mismatch' }, // body.seq still says 3
      { seq: 3, problem: 'seq_mismatch' },
    ]);
  });

  it('detects reordered entries', () => {
    const entries = buildChain(4);
    [entries[1], entries[2]] = [entries[2], entries[1]];
    expect(problemsOf(entries)).toEqual([
      { seq: 3, problem: 'seq_gap' },
      { seq: 3, problem: 'prev_hash_mismatch' },
      { seq: 2, problem: 'seq_out_of_order' },
      { seq: 2, problem: 'prev_hash_mismatch' },
      { seq: 4, problem: 'seq_gap' },
      { seq: 4, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('detects a duplicated entry', () => {
    const entries = buildChain(3);
    entries.splice(2, 0, entries[1]);
    // The copy is flagged; the entry after it links to the copy's (identical) hash, so it is not.
    expect(problemsOf(entries)).toEqual([
      { seq: 2, problem: 'seq_out_of_order' },
      { seq: 2, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('detects truncation only against an expected head', () => {
    const entries = buildChain(5);
    const head = { seq: 5, hash: entries[4].hash };
    const truncated = entries.slice(0, 3);
    expect(verifyChain(truncated, ledgerKey.publicKey).ok).toBe(true);
    expect(problemsOf(truncated, { expectedHead: head })).toEqual([{ seq: 5, problem: 'head_mismatch' }]);
    expect(verifyChain(entries, ledgerKey.publicKey, { expectedHead: head }).ok).toBe(true);
  });

  it('verifies a segment from a trusted anchor', () => {
    const entries = buildChain(6);
    const anchor = { seq: 3, hash: entries[2].hash };
    expect(verifyChain(entries.slice(3), ledgerKey.publicKey, { anchor }).ok).toBe(true);
    expect(problemsOf(entries.slice(4), { anchor })).toEqual([
      { seq: 5, problem: 'seq_gap' },
      { seq: 5, problem: 'prev_hash_mismatch' },
    ]);
  });

  it('reports malformed entries and bodies without throwing', () => {
    const entries = buildChain(3);
    const malformed = [entries[0], { ...entries[1], hash: 'zz' }, { ...entries[2], body: { when: new Date(0) } as unknown as object }];
    expect(problemsOf(malformed)).toEqual([
      { seq: 2, problem: 'malformed_entry' },
      { seq: 3, problem: 'prev_hash_mismatch' },
      { seq: 3, problem: 'malformed_body' },
    ]);
  });

  it('survives a JSON round trip through storage', () => {
    const entries = JSON.parse(JSON.stringify(buildChain(4))) as ChainEntry[];
    expect(verifyChain(entries, ledgerKey.publicKey).ok).toBe(true);
  });
});
