import { describe, expect, it } from 'vitest';
import type { LogRecord } from './log-entry.js';
import { TailCacheBudget } from './tail-cache.js';
import type { TailChunk } from './tail-cache.js';

/**
 * An append of offsets [from, from + n) with 28-byte payloads filled with
 * their offset: 36-byte values + 4 bytes of `ends` each, so it costs
 * 40 * n + 160 in the budget.
 */
function chunk(from: number, n: number): TailChunk {
  const data = Buffer.alloc(36 * n);
  const ends = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    data.fill(from + i, 36 * i + 8, 36 * (i + 1));
    ends[i] = 36 * (i + 1);
  }
  return { baseOffset: from, timestampMs: 7, data, ends };
}

const offsets = (list: readonly LogRecord[] | undefined): number[] | undefined => list?.map((r) => r.offset);
const big = 1 << 20;

describe('TailCache', () => {
  it('serves a contiguous run up to the high watermark, across appends, within the record and byte limits', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1_000_000 });
    const cache = budget.cache(10);
    expect(cache.read(10, 5, 1000)).toBeUndefined();
    cache.append(chunk(10, 3));
    cache.append(chunk(13, 4));
    expect([cache.start, cache.end]).toEqual([10, 17]);
    expect(offsets(cache.read(10, 100, big))).toEqual([10, 11, 12, 13, 14, 15, 16]);
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
    expect(cache.get(12)?.payload).toEqual(Buffer.alloc(28, 12));
    expect(cache.get(17)).toBeUndefined();
    expect(budget.stats()).toMatchObject({ bytes: 280 + 320, records: 7, hitRecords: 7 + 2 + 2 + 1 + 1 });
  });

  it('drops its oldest appends past its partition limit', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1000 });
    const cache = budget.cache(0);
    for (let from = 0; from < 16; from += 4) cache.append(chunk(from, 4));
    // Four appends of 320 bytes: the first went.
    expect([cache.start, cache.end]).toEqual([4, 16]);
    expect(cache.read(3, 10, big)).toBeUndefined();
    expect(offsets(cache.read(4, 1, big))).toEqual([4]);
    expect(budget.stats()).toMatchObject({ bytes: 960, records: 12 });
  });

  it('keeps all partitions within the budget, taking from the one appended to least recently', () => {
    const budget = new TailCacheBudget({ maxBytes: 1000, maxPartitionBytes: 1000 });
    const a = budget.cache(0);
    const b = budget.cache(0);
    const c = budget.cache(0);
    a.append(chunk(0, 4));
    b.append(chunk(0, 4));
    c.append(chunk(0, 2));
    expect(budget.stats().bytes).toBe(880);
    // b grows past the budget: a (least recently appended) gives up its append.
    b.append(chunk(4, 3));
    expect([a.start, a.end, b.start, c.start]).toEqual([4, 4, 0, 0]);
    // a appends: now c is the least recently appended, and b keeps everything.
    a.append(chunk(4, 2));
    expect([c.start, c.end, b.start]).toEqual([2, 2, 0]);
    // c appends: b (appended before a) gives up its oldest append.
    c.append(chunk(2, 1));
    expect([b.start, a.start, c.start]).toEqual([4, 4, 2]);
    expect(budget.stats()).toMatchObject({ bytes: 280 + 240 + 200, records: 6 });
  });

  it('lets go of appends below a new log start, and starts over after a gap', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1_000_000 });
    const cache = budget.cache(0);
    cache.append(chunk(0, 5));
    cache.append(chunk(5, 3));
    // Offset 3 is inside the first append: it stays (readers never ask below the log start).
    cache.trimBelow(3);
    expect(cache.start).toBe(0);
    cache.trimBelow(5);
    expect([cache.start, cache.end]).toEqual([5, 8]);
    expect(offsets(cache.read(5, 10, big))).toEqual([5, 6, 7]);
    cache.trimBelow(99);
    expect([cache.start, cache.end]).toEqual([8, 8]);
    cache.append(chunk(8, 2));
    cache.append(chunk(20, 2));
    expect([cache.start, cache.end]).toEqual([20, 22]);
    cache.clear(22);
    expect(budget.stats()).toMatchObject({ bytes: 0, records: 0 });
  });

  it('compacts its list as it drops appends, without losing any record', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 240 * 100 });
    const cache = budget.cache(0);
    for (let from = 0; from < 6_000; from += 2) {
      cache.append(chunk(from, 2));
      const start = Math.max(0, from + 2 - 200);
      expect(cache.start).toBe(start);
      const read = cache.read(start, 500, big) ?? [];
      expect(read.map((r) => r.offset)).toEqual(Array.from({ length: from + 2 - start }, (_, k) => start + k));
      expect(read.every((r) => r.payload.every((byte) => byte === (r.offset & 0xff)))).toBe(true);
    }
  });

  it('holds nothing with a budget of 0, yet follows the high watermark', () => {
    const budget = new TailCacheBudget({ maxBytes: 0, maxPartitionBytes: 1000 });
    const cache = budget.cache(0);
    cache.append(chunk(0, 3));
    expect([cache.start, cache.end]).toEqual([3, 3]);
    expect(cache.read(0, 10, 1000)).toBeUndefined();
    expect(budget.stats().bytes).toBe(0);
    expect(() => new TailCacheBudget({ maxBytes: -1, maxPartitionBytes: 1 })).toThrow(/maxBytes must be an integer >= 0/);
  });
});
