import { InvalidArgumentError } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { OffsetRangeSet } from './offset-range-set.js';
import type { OffsetRange } from './offset-range-set.js';

/** Deterministic pseudo-random numbers (mulberry32). */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const setOf = (...ranges: [number, number][]): OffsetRangeSet => {
  const set = new OffsetRangeSet();
  for (const [first, last] of ranges) set.add(first, last);
  return set;
};

const pairs = (set: OffsetRangeSet): [number, number][] => set.ranges().map((r) => [r.first, r.last]);

/** The ranges a plain set of offsets makes: what `ranges()` must return. */
function rangesOf(offsets: Set<number>): OffsetRange[] {
  const sorted = [...offsets].sort((a, b) => a - b);
  const ranges: OffsetRange[] = [];
  for (const offset of sorted) {
    const last = ranges.at(-1);
    if (last && last.last + 1 === offset) ranges[ranges.length - 1] = { first: last.first, last: offset };
    else ranges.push({ first: offset, last: offset });
  }
  return ranges;
}

/** What `advance` must do, on a plain set. */
function naiveAdvance(offsets: Set<number>, cursor: number): number {
  let next = cursor;
  while (offsets.has(next)) next++;
  for (const offset of offsets) if (offset < next) offsets.delete(offset);
  return next;
}

describe('OffsetRangeSet', () => {
  it('merges overlapping and adjacent ranges and counts only new offsets', () => {
    const set = new OffsetRangeSet();
    expect(set.add(10, 12)).toBe(3);
    expect(set.add(20)).toBe(1);
    expect(set.add(14, 15)).toBe(2);
    expect(pairs(set)).toEqual([[10, 12], [14, 15], [20, 20]]);
    // 13 closes the hole between two ranges: they become one.
    expect(set.add(13)).toBe(1);
    expect(pairs(set)).toEqual([[10, 15], [20, 20]]);
    // A repeated ack adds nothing.
    expect(set.add(11, 14)).toBe(0);
    // A range swallowing others, overlapping at both ends.
    expect(set.add(8, 21)).toBe(14 - 7);
    expect(pairs(set)).toEqual([[8, 21]]);
    expect(set.add(22)).toBe(1); // adjacent above
    expect(set.add(7)).toBe(1); // adjacent below
    expect(pairs(set)).toEqual([[7, 22]]);
    expect(set.size).toBe(16);
    expect(set.rangeCount).toBe(1);
  });

  it('answers membership at range edges', () => {
    const set = setOf([0, 0], [5, 9], [2 ** 53 - 2, 2 ** 53 - 1]);
    for (const [offset, inside] of [[0, true], [1, false], [4, false], [5, true], [9, true], [10, false], [2 ** 53 - 3, false], [2 ** 53 - 1, true]] as const) {
      expect(set.has(offset), String(offset)).toBe(inside);
    }
    expect(new OffsetRangeSet().has(0)).toBe(false);
  });

  it('advances a cursor over the acknowledged prefix and keeps only what lies above it', () => {
    const set = setOf([10, 12], [15, 15]);
    expect(set.advance(10)).toBe(13);
    expect(pairs(set)).toEqual([[15, 15]]);
    expect(set.size).toBe(1);
    // Nothing acknowledged at the cursor: it stays, and the set too.
    expect(set.advance(13)).toBe(13);
    expect(pairs(set)).toEqual([[15, 15]]);
    set.add(13, 14);
    expect(set.advance(13)).toBe(16);
    expect(set.size).toBe(0);
  });

  it('drops stale ranges below the cursor when advancing, also one the cursor lands in', () => {
    const set = setOf([1, 2], [4, 6], [8, 12], [20, 21]);
    // 10 lies inside 8-12: the cursor moves to 13, and everything below goes.
    expect(set.advance(10)).toBe(13);
    expect(pairs(set)).toEqual([[20, 21]]);
    expect(set.size).toBe(2);
    expect(set.advance(30)).toBe(30);
    expect(set.size).toBe(0);
    expect(set.rangeCount).toBe(0);
  });

  it('rejects ranges that are not offsets', () => {
    const set = new OffsetRangeSet();
    expect(() => set.add(5, 4)).toThrow(InvalidArgumentError);
    expect(() => set.add(-1, 4)).toThrow(InvalidArgumentError);
    expect(() => set.add(1.5)).toThrow(InvalidArgumentError);
    expect(() => set.add(0, 2 ** 53)).toThrow(InvalidArgumentError);
    expect(() => set.advance(-1)).toThrow(InvalidArgumentError);
    expect(set.size).toBe(0);
  });

  it('encodes gaps and spans as varints and decodes to an equal set', () => {
    const set = setOf([3, 5], [7, 7], [300, 300]);
    // [n=3] [gap 3][span 2] [gap 7-5-2=0][span 0] [gap 300-7-2=291 = 0xa3 0x02][span 0]
    expect(set.encode().toString('hex')).toBe('03' + '0302' + '0000' + 'a30200');
    expect(pairs(OffsetRangeSet.decode(set.encode()))).toEqual(pairs(set));
    expect(new OffsetRangeSet().encode().toString('hex')).toBe('00');
    const huge = setOf([2 ** 53 - 10, 2 ** 53 - 1]);
    const decoded = OffsetRangeSet.decode(huge.encode());
    expect(pairs(decoded)).toEqual([[2 ** 53 - 10, 2 ** 53 - 1]]);
    expect(decoded.size).toBe(10);
  });

  it('refuses malformed encodings', () => {
    const good = setOf([3, 5], [7, 7]).encode();
    expect(() => OffsetRangeSet.decode(good.subarray(0, good.length - 1))).toThrow(RangeError);
    expect(() => OffsetRangeSet.decode(Buffer.concat([good, Buffer.from([0])]))).toThrow(RangeError);
    // A varint of nine bytes, and one whose value is 2^53.
    expect(() => OffsetRangeSet.decode(Buffer.from('01' + 'ff'.repeat(8) + '01' + '00', 'hex'))).toThrow(RangeError);
    expect(() => OffsetRangeSet.decode(Buffer.from('01' + '8080808080808010' + '00', 'hex'))).toThrow(RangeError);
    // A range ending beyond 2^53 through a large span.
    expect(() => OffsetRangeSet.decode(Buffer.from('01' + '01' + 'ffffffffffffff0f', 'hex'))).toThrow(RangeError);
  });

  it('copies independently', () => {
    const set = setOf([1, 3]);
    const copy = set.clone();
    copy.add(10);
    expect(pairs(set)).toEqual([[1, 3]]);
    expect(pairs(copy)).toEqual([[1, 3], [10, 10]]);
    expect(copy.size).toBe(4);
  });

  it('collapses 100,000 offsets acknowledged in random order into one range', () => {
    const random = prng(42);
    const offsets = Array.from({ length: 100_000 }, (_, i) => 1_000_000 + i);
    for (let i = offsets.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [offsets[i], offsets[j]] = [offsets[j] ?? 0, offsets[i] ?? 0];
    }
    const set = new OffsetRangeSet();
    let peakRanges = 0;
    for (const offset of offsets) {
      set.add(offset);
      peakRanges = Math.max(peakRanges, set.rangeCount);
    }
    expect(pairs(set)).toEqual([[1_000_000, 1_099_999]]);
    expect(set.size).toBe(100_000);
    // Halfway, a random half of the offsets is a quarter of them in ranges.
    expect(peakRanges).toBeGreaterThan(20_000);
    expect(set.advance(1_000_000)).toBe(1_100_000);
  });

  it('deletes offsets: a range loses an end, splits in the middle, or goes', () => {
    const set = setOf([10, 14], [20, 20]);
    expect(set.delete(12)).toBe(true);
    expect(pairs(set)).toEqual([[10, 11], [13, 14], [20, 20]]);
    expect(set.delete(10)).toBe(true);
    expect(set.delete(14)).toBe(true);
    expect(set.delete(20)).toBe(true);
    expect(pairs(set)).toEqual([[11, 11], [13, 13]]);
    expect(set.delete(12)).toBe(false);
    expect(set.delete(99)).toBe(false);
    expect(set.size).toBe(2);
    expect(set.offsets()).toEqual([11, 13]);
    // Still canonical: adding the offset back merges the split range.
    set.add(12);
    expect(pairs(set)).toEqual([[11, 13]]);
  });

  it('behaves like a plain Set under random adds, deletes, lookups and advances', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const random = prng(seed);
      const set = new OffsetRangeSet();
      const naive = new Set<number>();
      const span = seed % 2 === 0 ? 300 : 5000; // dense and sparse
      let cursor = 0;
      for (let step = 0; step < 3000; step++) {
        const roll = random();
        if (roll < 0.75) {
          const first = cursor + Math.floor(random() * span);
          const last = first + (random() < 0.6 ? 0 : Math.floor(random() * 8));
          let fresh = 0;
          for (let o = first; o <= last; o++) {
            if (!naive.has(o)) fresh++;
            naive.add(o);
          }
          expect(set.add(first, last)).toBe(fresh);
        } else if (roll < 0.82) {
          const victim = cursor + Math.floor(random() * span);
          expect(set.delete(victim)).toBe(naive.delete(victim));
        } else if (roll < 0.9) {
          // Mostly the cursor itself, sometimes a jump ahead (e.g. retention moved the log start).
          const at = random() < 0.8 ? cursor : cursor + Math.floor(random() * span);
          cursor = naiveAdvance(naive, at);
          expect(set.advance(at)).toBe(cursor);
        } else {
          const probe = cursor + Math.floor(random() * span) - 5;
          if (probe >= 0) expect(set.has(probe)).toBe(naive.has(probe));
        }
        expect(set.size).toBe(naive.size);
      }
      expect(set.ranges()).toEqual(rangesOf(naive));
      expect(set.offsets()).toEqual([...naive].sort((a, b) => a - b));
      for (let o = Math.max(0, cursor - 10); o < cursor + span + 10; o++) expect(set.has(o)).toBe(naive.has(o));
      expect(OffsetRangeSet.decode(set.encode()).ranges()).toEqual(set.ranges());
    }
  });
});
