import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  buildChainEntry,
  type ChainEntry,
  type ChainLink,
  GENESIS,
  GENESIS_HASH,
  hashEntry,
  signEntryHash,
  verifyChain,
  verifyEntrySignature,
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
