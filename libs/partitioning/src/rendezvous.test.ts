import { describe, expect, it } from 'vitest';
import { keyItem, partitionItem } from './item-encoding.js';
import { compareMemberIds, rendezvousOwner, rendezvousRank, rendezvousScore } from './rendezvous.js';
import { xxh64 } from './xxhash64.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const ITEMS = Array.from({ length: 10_000 }, (_, i) => partitionItem('orders', i));
const membersOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `member-${i}`);
const ownersOf = (members: readonly string[]): (string | undefined)[] =>
  ITEMS.map((item) => rendezvousOwner(item, members));

describe('rendezvousScore', () => {
  it('is xxh64(utf8(member) ++ 0x00 ++ item)', () => {
    const item = Uint8Array.of(0x00, 0xff, 0x10);
    expect(rendezvousScore(item, 'broker-1')).toBe(xxh64(Uint8Array.of(...utf8('broker-1'), 0, ...item)));
    expect(rendezvousScore(item, 'zoë🙂')).toBe(xxh64(Uint8Array.of(...utf8('zoë🙂'), 0, ...item)));
    // Long ids grow the scratch buffer; the score must not change with it.
    const long = 'x'.repeat(5_000);
    expect(rendezvousScore(item, long)).toBe(xxh64(Uint8Array.of(...utf8(long), 0, ...item)));
  });
});

describe('rendezvousOwner', () => {
  it('picks the member with the highest unsigned score', () => {
    const members = membersOf(7);
    for (const item of ITEMS.slice(0, 200)) {
      const scores = members.map((m) => rendezvousScore(item, m));
      const best = scores.reduce((a, b) => (b > a ? b : a));
      expect(rendezvousOwner(item, members)).toBe(members[scores.indexOf(best)]);
    }
  });

  it('returns undefined for no members and the only member for one', () => {
    expect(rendezvousOwner(utf8('k'), [])).toBeUndefined();
    expect(rendezvousRank(utf8('k'), [])).toEqual([]);
    expect(rendezvousOwner(utf8('k'), ['solo'])).toBe('solo');
  });

  it('does not depend on the order of the member list', () => {
    const members = membersOf(6);
    const reversed = [...members].reverse();
    for (const item of ITEMS.slice(0, 500)) {
      expect(rendezvousOwner(item, reversed)).toBe(rendezvousOwner(item, members));
    }
  });

  it('spreads 10,000 items evenly over 10 members (within 10%)', () => {
    const counts = new Map<string, number>();
    for (const owner of ownersOf(membersOf(10))) counts.set(owner ?? '', (counts.get(owner ?? '') ?? 0) + 1);
    expect(counts.size).toBe(10);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThanOrEqual(900);
      expect(count).toBeLessThanOrEqual(1_100);
    }
  });

  it.each([3, 5, 10])('moves about 1/(n+1) of 10,000 items, all to the newcomer, when n = %i grows by one', (n) => {
    const before = ownersOf(membersOf(n));
    const newcomer = `member-${n}`;
    const after = ownersOf(membersOf(n + 1));
    let moved = 0;
    for (let i = 0; i < ITEMS.length; i++) {
      if (before[i] !== after[i]) {
        moved += 1;
        expect(after[i]).toBe(newcomer);
      }
    }
    const expected = ITEMS.length / (n + 1);
    expect(moved).toBeGreaterThanOrEqual(expected * 0.85);
    expect(moved).toBeLessThanOrEqual(expected * 1.15);
  });

  it.each([3, 5, 10])('moves only the leaver’s items, spread over the others, when one of %i leaves', (n) => {
    const members = membersOf(n);
    const leaver = 'member-1';
    const before = ownersOf(members);
    const after = ownersOf(members.filter((m) => m !== leaver));
    const received = new Map<string, number>();
    for (let i = 0; i < ITEMS.length; i++) {
      if (before[i] === leaver) {
        expect(after[i]).not.toBe(leaver);
        received.set(after[i] ?? '', (received.get(after[i] ?? '') ?? 0) + 1);
      } else {
        expect(after[i]).toBe(before[i]);
      }
    }
    // Each of the n-1 others takes a fair share of the leaver's items.
    const orphaned = before.filter((owner) => owner === leaver).length;
    const share = orphaned / (n - 1);
    expect(received.size).toBe(n - 1);
    for (const count of received.values()) {
      expect(count).toBeGreaterThanOrEqual(share * 0.7);
      expect(count).toBeLessThanOrEqual(share * 1.3);
    }
  });
});

describe('rendezvousRank', () => {
  it('orders members by score, highest first, with the owner first', () => {
    const members = membersOf(8);
    for (const item of ITEMS.slice(0, 200)) {
      const ranking = rendezvousRank(item, members);
      expect(ranking[0]).toBe(rendezvousOwner(item, members));
      const scores = ranking.map((m) => rendezvousScore(item, m));
      for (let i = 1; i < scores.length; i++) expect((scores[i - 1] ?? 0n) > (scores[i] ?? 0n)).toBe(true);
      expect([...ranking].sort()).toEqual([...members].sort());
    }
  });

  it('keeps the relative order of the others when a member leaves (replica sets shift minimally)', () => {
    const members = membersOf(6);
    for (const item of ITEMS.slice(0, 200)) {
      const without = members.filter((m) => m !== 'member-2');
      expect(rendezvousRank(item, without)).toEqual(rendezvousRank(item, members).filter((m) => m !== 'member-2'));
    }
  });

  it('lists duplicate ids once; the owner of a duplicated list is unchanged', () => {
    const item = keyItem(utf8('user-1'));
    const members = ['a', 'b', 'a', 'c', 'b'];
    expect(rendezvousRank(item, members)).toEqual(rendezvousRank(item, ['a', 'b', 'c']));
    expect(rendezvousOwner(item, members)).toBe(rendezvousOwner(item, ['a', 'b', 'c']));
  });
});

describe('compareMemberIds (tie-break)', () => {
  it('orders by UTF-8 bytes, not UTF-16 code units', () => {
    // U+FFFF is EF BF BF in UTF-8 and sorts before U+1F642 (F0 9F 99 82),
    // while JavaScript's `<` on UTF-16 puts the surrogate 0xD83D first.
    expect(['\uFFFF', '\u{1F642}'].sort()).toEqual(['\u{1F642}', '\uFFFF']);
    expect(compareMemberIds('\uFFFF', '\u{1F642}')).toBeLessThan(0);
    expect(compareMemberIds('broker-1', 'broker-2')).toBeLessThan(0);
    expect(compareMemberIds('broker', 'broker-1')).toBeLessThan(0);
    expect(compareMemberIds('b', 'b')).toBe(0);
  });
});

describe('item encodings', () => {
  it('encodes a partition as utf8(`${topic}/${partition}`)', () => {
    expect(Buffer.from(partitionItem('orders', 3)).toString('hex')).toBe('6f72646572732f33');
    expect(partitionItem('zoë/events', 12)).toEqual(utf8('zoë/events/12'));
  });

  it('uses the raw key bytes as the key item', () => {
    const key = Uint8Array.of(0, 255, 7);
    expect(keyItem(key)).toEqual(Uint8Array.of(0, 255, 7));
  });

  it('rejects partitions that are not integers in 0..2^31-2', () => {
    for (const partition of [-1, 1.5, Number.NaN, 2 ** 31 - 1]) {
      expect(() => partitionItem('orders', partition)).toThrow(RangeError);
    }
  });
});
