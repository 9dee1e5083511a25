import { describe, expect, it } from 'vitest';
import type { LogRecord } from './log-entry.js';
import { TailCacheBudget } from './tail-cache.js';
import type { TailAppend } from './tail-cache.js';

/** An append of offsets [from, from + n): 36-byte values whose 28-byte payloads are filled with their offset. */
function append(from: number, n: number): TailAppend {
  const data = Buffer.alloc(36 * n);
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    data.fill(from + i, 36 * i + 8, 36 * (i + 1));
    ends[i] = 36 * (i + 1);
  }
  return { baseOffset: from, timestampMs: 7, data, ends };
}

const offsets = (list: readonly LogRecord[] | undefined): number[] | undefined => list?.map((r) => r.offset);
const intact = (list: readonly LogRecord[]): boolean => list.every((r) => r.payload.length === 28 && r.payload.every((byte) => byte === (r.offset & 0xff)));
const big = 1 << 20;

describe('TailCache', () => {
  it('serves a contiguous run up to the high watermark, across appends, within the record and byte limits', () => {
    const budget = new TailCacheBudget({ maxBytes: 10_000, maxPartitionBytes: 10_000, slabBytes: 1000 });
    const cache = budget.cache(10);
    expect(cache.read(10, 5, 1000)).toBeUndefined();
    cache.append(append(10, 3));
    cache.append(append(13, 4));
    expect([cache.start, cache.end]).toEqual([10, 17]);
    const all = cache.read(10, 100, big) ?? [];
    expect(offsets(all)).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(intact(all)).toBe(true);
    expect(offsets(cache.read(12, 2, big))).toEqual([12, 13]);
    // 28-byte payloads: 60 bytes take two, and a record larger than the limit still comes alone.
    expect(offsets(cache.read(11, 100, 60))).toEqual([11, 12]);
    expect(offsets(cache.read(11, 100, 1))).toEqual([11]);
    expect(offsets(cache.read(16, 100, big))).toEqual([16]);
    expect(cache.read(9, 5, 1000)).toBeUndefined();
    expect(cache.read(17, 5, 1000)).toBeUndefined();
    const record = cache.get(14);
    expect(record?.timestampMs).toBe(7);
    expect(record?.payload).toEqual(Buffer.alloc(28, 14));
    expect(cache.get(17)).toBeUndefined();
    // Readers get copies: what they do with them does not reach the cache.
    record?.payload.fill(0);
    expect(cache.get(14)?.payload).toEqual(Buffer.alloc(28, 14));
    expect(budget.stats()).toMatchObject({ bytes: 1000, records: 7, hitRecords: 7 + 2 + 2 + 1 + 1 });
  });

  it('gives up its oldest slab past its partition limit', () => {
    // 200-byte slabs take one 4-record append (144 bytes) each; a partition keeps two.
    const budget = new TailCacheBudget({ maxBytes: 10_000, maxPartitionBytes: 400, slabBytes: 200 });
    const cache = budget.cache(0);
    for (let from = 0; from < 16; from += 4) cache.append(append(from, 4));
    expect([cache.start, cache.end]).toEqual([8, 16]);
    expect(cache.read(7, 10, big)).toBeUndefined();
    expect(offsets(cache.read(8, 100, big))).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    // Three slabs were ever allocated: the first one given up was reused for the fourth append.
    expect(budget.stats()).toMatchObject({ bytes: 600, records: 8 });
  });

  it('shares the slabs between partitions, taking one from the partition appended to least recently', () => {
    const budget = new TailCacheBudget({ maxBytes: 600, maxPartitionBytes: 600, slabBytes: 200 });
    const a = budget.cache(0);
    const b = budget.cache(0);
    const c = budget.cache(0);
    a.append(append(0, 4));
    b.append(append(0, 4));
    c.append(append(0, 2));
    // All three slabs are taken and b's is too full: a (least recently appended) gives up its slab.
    b.append(append(4, 3));
    expect([a.start, a.end, b.start, c.start]).toEqual([4, 4, 0, 0]);
    // a needs a slab: now c is the least recently appended, and b keeps everything.
    a.append(append(4, 2));
    expect([c.start, c.end, b.start]).toEqual([2, 2, 0]);
    // c needs one: b (appended before a) gives up its oldest.
    c.append(append(2, 1));
    expect([b.start, a.start, c.start]).toEqual([4, 4, 2]);
    expect(budget.stats()).toMatchObject({ bytes: 600, records: 3 + 2 + 1 });
    expect(offsets(b.read(0, 10, big))).toBeUndefined();
    expect(offsets(b.read(4, 10, big))).toEqual([4, 5, 6]);
  });

  it('lets go of appends below a new log start, and starts over after a gap or an append larger than a slab', () => {
    const budget = new TailCacheBudget({ maxBytes: 10_000, maxPartitionBytes: 10_000, slabBytes: 1000 });
    const cache = budget.cache(0);
    cache.append(append(0, 5));
    cache.append(append(5, 3));
    // Offset 3 is inside the first append: it stays (readers never ask below the log start).
    cache.trimBelow(3);
    expect(cache.start).toBe(0);
    cache.trimBelow(5);
    expect([cache.start, cache.end]).toEqual([5, 8]);
    expect(offsets(cache.read(5, 10, big))).toEqual([5, 6, 7]);
    cache.trimBelow(99);
    expect([cache.start, cache.end]).toEqual([8, 8]);
    cache.append(append(8, 2));
    cache.append(append(20, 2));
    expect([cache.start, cache.end]).toEqual([20, 22]);
    cache.append(append(22, 30)); // 1,080 bytes: more than a slab
    expect([cache.start, cache.end]).toEqual([52, 52]);
    cache.append(append(52, 1));
    expect([cache.start, cache.end]).toEqual([52, 53]);
    cache.clear(53);
    expect(budget.stats()).toMatchObject({ bytes: 1000, records: 0 });
  });

  it('reuses its slabs without ever handing out a record that changed under its reader', () => {
    // Ten slabs of twenty records, shared by two partitions.
    const budget = new TailCacheBudget({ maxBytes: 7200, maxPartitionBytes: 7200, slabBytes: 720 });
    const caches = [budget.cache(0), budget.cache(0)];
    const kept: LogRecord[] = [];
    for (let from = 0; from < 6_000; from += 2) {
      for (const cache of caches) {
        cache.append(append(from, 2));
        expect(cache.end).toBe(from + 2);
        const read = cache.read(cache.start, 500, big) ?? [];
        expect(offsets(read)).toEqual(Array.from({ length: from + 2 - cache.start }, (_, k) => cache.start + k));
        expect(intact(read)).toBe(true);
        if (from % 200 === 0) kept.push(...read.slice(0, 3));
      }
      expect(budget.stats().bytes).toBeLessThanOrEqual(7200);
    }
    // Both partitions hold four or five slabs' worth, the most recent.
    for (const cache of caches) expect(cache.end - cache.start).toBeGreaterThanOrEqual(80);
    expect(intact(kept)).toBe(true);
  });

  it('holds nothing with a budget under one slab, yet follows the high watermark', () => {
    const budget = new TailCacheBudget({ maxBytes: 0, maxPartitionBytes: 1000, slabBytes: 1000 });
    const cache = budget.cache(0);
    cache.append(append(0, 3));
    expect([cache.start, cache.end]).toEqual([3, 3]);
    expect(cache.read(0, 10, 1000)).toBeUndefined();
    expect(budget.stats()).toMatchObject({ bytes: 0, records: 0 });
    expect(() => new TailCacheBudget({ maxBytes: -1, maxPartitionBytes: 1, slabBytes: 1 })).toThrow(/maxBytes must be an integer >= 0/);
  });
});
