import { describe, expect, it } from 'vitest';
import { HeldRecords } from './held-records.js';
import type { FeedRecord } from './partition-feed.js';

const record = (offset: number): FeedRecord => ({
  partition: 0,
  offset,
  payload: Buffer.from(`r${offset}`),
  key: Buffer.from('k'),
  keyId: 'k',
  bytes: 3,
  deliverAtMs: 0,
  targetSubscription: undefined,
  redriveCount: 0,
  timestampMs: 0,
});

describe('HeldRecords', () => {
  it('keeps each key in offset order, whatever order records are held in, and ignores a record held twice', () => {
    const held = new HeldRecords({ records: 100, bytes: 1 << 20 });
    for (const offset of [10, 30, 20, 40, 20]) held.hold('a', record(offset));
    held.hold('b', record(15));
    expect(held.size).toBe(5);
    expect(held.firstOffset('a')).toBe(10);
    expect(held.offsets()).toEqual([10, 15, 20, 30, 40]);
    expect(held.take('a').map((e) => e.offset)).toEqual([10, 20, 30, 40]);
    expect(held.firstOffset('a')).toBeUndefined();
    expect(held.size).toBe(1);
    expect(held.take('a')).toEqual([]);
  });

  it('takes a prefix up to an offset (the key is blocked again further on)', () => {
    const held = new HeldRecords({ records: 100, bytes: 1 << 20 });
    for (const offset of [5, 8, 12, 20]) held.hold('a', record(offset));
    expect(held.take('a', 12).map((e) => e.offset)).toEqual([5, 8, 12]);
    expect(held.firstOffset('a')).toBe(20);
    expect(held.take('a', 19)).toEqual([]);
    expect(held.take('a', 20).map((e) => e.offset)).toEqual([20]);
    expect(held.size).toBe(0);
  });

  it('keeps the bytes of at most `records` records; the rest are offsets only, and taking frees room', () => {
    const held = new HeldRecords({ records: 2, bytes: 1 << 20 });
    for (const offset of [1, 2, 3]) held.hold('a', record(offset));
    expect(held.inMemory).toBe(2);
    const taken = held.take('a');
    expect(taken.map((e) => e.record?.offset)).toEqual([1, 2, undefined]);
    expect(held.inMemory).toBe(0);
    held.hold('b', record(4));
    expect(held.take('b')[0]?.record?.offset).toBe(4);
  });

  it('keeps bytes only while the held bytes stay within `bytes`', () => {
    const held = new HeldRecords({ records: 100, bytes: 7 });
    // Each test record is 2-3 stored bytes ("r1", "r10", ...).
    for (const offset of [1, 2, 3, 10]) held.hold('a', record(offset));
    expect(held.bytesInMemory).toBe(6);
    expect(held.take('a').map((e) => e.record !== undefined)).toEqual([true, true, true, false]);
    expect(held.bytesInMemory).toBe(0);
  });

  it('restores what was taken, in order among what was held meanwhile, keeping bytes while there is room', () => {
    const held = new HeldRecords({ records: 2, bytes: 1 << 20 });
    for (const offset of [1, 2, 3]) held.hold('a', record(offset));
    const taken = held.take('a');
    held.hold('a', record(5));
    held.restore('a', taken);
    expect(held.offsets()).toEqual([1, 2, 3, 5]);
    // 5 was held with bytes meanwhile; of the restored ones only 1 still finds room (limit 2).
    expect(held.take('a').map((e) => e.record !== undefined)).toEqual([true, false, false, true]);
    expect(held.size).toBe(0);
    expect(held.inMemory).toBe(0);
  });
});
