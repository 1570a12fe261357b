import { createHash } from 'node:crypto';
import { groupDigest } from '@concord/crypto';
import { describe, expect, it } from 'vitest';
import type { LedgerGroup } from './ledger.repository';
import { type LedgerSource, verifyLedger } from './verify-ledger';

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A ledger source holding only signing groups (no chains), served in digest order, a page at a time. */
function groupsOnly(groups: LedgerGroup[]): LedgerSource & { pages: number } {
  const sorted = [...groups].sort((a, b) => (a.groupDigest < b.groupDigest ? -1 : 1));
  const source = {
    pages: 0,
    listBudgets: () => Promise.resolve([]),
    institutionsWithEntries: () => Promise.resolve([]),
    allEntries: () => Promise.resolve([]),
    groups: (after: string | null, limit: number) => {
      source.pages += 1;
      return Promise.resolve(sorted.filter((g) => after === null || g.groupDigest > after).slice(0, limit));
    },
  };
  return source;
}

describe('verifyLedger, signing groups', () => {
  it('checks every group, page after page, and reports each entry of a group that does not match', async () => {
    const groups: LedgerGroup[] = Array.from({ length: 2500 }, (_, g) => {
      const members = [0, 1].map((k) => ({ institutionId: `inst-${k}`, seq: g + 1, hash: hex(`${g}/${k}`), signature: `sig-${g}` }));
      return { groupDigest: groupDigest(members.map((m) => m.hash)), members };
    });
    const intact = groupsOnly(groups);
    expect(await verifyLedger(intact, new Uint8Array(32))).toEqual({ institutions: 0, entries: 0, verified: true, problems: [] });
    expect(intact.pages).toBe(3);

    // The group last in digest order (third page) lost a member.
    const last = [...groups].sort((a, b) => (a.groupDigest < b.groupDigest ? 1 : -1))[0];
    last.members.pop();
    const report = await verifyLedger(groupsOnly(groups), new Uint8Array(32));
    expect(report.verified).toBe(false);
    expect(report.problems).toEqual([
      {
        institutionId: 'inst-0',
        seq: last.members[0].seq,
        problem: 'group_digest_mismatch',
        detail: `group ${last.groupDigest} (1 entries)`,
      },
    ]);
  });
});
