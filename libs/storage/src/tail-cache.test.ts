import { describe, expect, it } from 'vitest';
import type { LogRecord } from './log-entry.js';
import { TailCacheBudget } from './tail-cache.js';

/** Records [from, from + n) with `size`-byte payloads; each costs size + 64 in the budget. */
function records(from: number, n: number, size = 36): LogRecord[] {
  return Array.from({ length: n }, (_, i) => ({ offset: from + i, timestampMs: 7, payload: Buffer.alloc(size, from + i) }));
}

const offsets = (list: readonly LogRecord[] | undefined): number[] | undefined => list?.map((r) => r.offset);

describe('TailCache', () => {
  it('serves a contiguous run up to the high watermark, within the record and byte limits', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1_000_000 });
    const cache = budget.cache(10);
    expect(cache.read(10, 5, 1000)).toBeUndefined();
    cache.append(records(10, 3));
    cache.append(records(13, 4));
    expect([cache.start, cache.end]).toEqual([10, 17]);
    expect(offsets(cache.read(10, 100, 1 << 20))).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(offsets(cache.read(12, 2, 1 << 20))).toEqual([12, 13]);
    // 36-byte payloads: 100 bytes take two, and a record larger than the limit still comes alone.
    expect(offsets(cache.read(11, 100, 100))).toEqual([11, 12]);
    expect(offsets(cache.read(11, 100, 1))).toEqual([11]);
    expect(offsets(cache.read(16, 100, 1 << 20))).toEqual([16]);
    expect(cache.read(9, 5, 1000)).toBeUndefined();
    expect(cache.read(17, 5, 1000)).toBeUndefined();
    expect(cache.get(14)?.payload[0]).toBe(14);
    expect(cache.get(17)).toBeUndefined();
    expect(budget.stats()).toMatchObject({ bytes: 7 * 100, records: 7, hitRecords: 7 + 2 + 2 + 1 + 1 });
  });

  it('drops its oldest records past its partition limit', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1000 });
    const cache = budget.cache(0);
    cache.append(records(0, 8));
    cache.append(records(8, 4));
    expect([cache.start, cache.end]).toEqual([2, 12]);
    expect(cache.read(1, 10, 1 << 20)).toBeUndefined();
    expect(offsets(cache.read(2, 1, 1 << 20))).toEqual([2]);
    expect(budget.stats()).toMatchObject({ bytes: 1000, records: 10 });
  });

  it('keeps all partitions within the budget, taking from the one appended to least recently', () => {
    const budget = new TailCacheBudget({ maxBytes: 1000, maxPartitionBytes: 1000 });
    const a = budget.cache(0);
    const b = budget.cache(0);
    const c = budget.cache(0);
    a.append(records(0, 4));
    b.append(records(0, 4));
    c.append(records(0, 2));
    expect(budget.stats().bytes).toBe(1000);
    // Three more for b: a (least recently appended) gives them up first.
    b.append(records(4, 3));
    expect([a.start, a.end, b.start, c.start]).toEqual([3, 4, 0, 0]);
    a.append(records(4, 2));
    // Now c is the least recently appended: its two go, b keeps all.
    expect([c.start, c.end]).toEqual([2, 2]);
    expect(b.start).toBe(0);
    c.append(records(2, 1));
    // Then b (appended before a): its oldest goes.
    expect([b.start, a.start, c.start]).toEqual([1, 3, 2]);
    expect(budget.stats()).toMatchObject({ bytes: 1000, records: 10 });
  });

  it('lets go of records below a new log start, and starts over after a gap', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 1_000_000 });
    const cache = budget.cache(0);
    cache.append(records(0, 5));
    cache.trimBelow(3);
    expect([cache.start, cache.end]).toEqual([3, 5]);
    expect(offsets(cache.read(3, 10, 1 << 20))).toEqual([3, 4]);
    cache.trimBelow(9);
    expect([cache.start, cache.end]).toEqual([5, 5]);
    cache.append(records(5, 2));
    cache.append(records(20, 2));
    expect([cache.start, cache.end]).toEqual([20, 22]);
    cache.clear(22);
    expect(budget.stats()).toMatchObject({ bytes: 0, records: 0 });
  });

  it('compacts its array as it drops records, without losing any', () => {
    const budget = new TailCacheBudget({ maxBytes: 1_000_000, maxPartitionBytes: 100 * 500 });
    const cache = budget.cache(0);
    for (let i = 0; i < 5_000; i += 10) {
      cache.append(records(i, 10));
      const from = Math.max(0, i + 10 - 500);
      expect(cache.start).toBe(from);
      expect(offsets(cache.read(from, 500, 1 << 20))).toEqual(Array.from({ length: i + 10 - from }, (_, k) => from + k));
    }
  });

  it('holds nothing with a budget of 0, yet follows the high watermark', () => {
    const budget = new TailCacheBudget({ maxBytes: 0, maxPartitionBytes: 1000 });
    const cache = budget.cache(0);
    cache.append(records(0, 3));
    expect([cache.start, cache.end]).toEqual([3, 3]);
    expect(cache.read(0, 10, 1000)).toBeUndefined();
    expect(budget.stats().bytes).toBe(0);
    expect(() => new TailCacheBudget({ maxBytes: -1, maxPartitionBytes: 1 })).toThrow(/maxBytes must be an integer >= 0/);
  });
});
