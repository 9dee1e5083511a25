import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../test/prng.js';
import { jumpHash } from './jump-hash.js';
import { partitionForKey } from './partition.js';
import { SLOT_HASH_SEED, slotForKey } from './slots.js';
import { xxh64 } from './xxhash64.js';

/** Counts per slot of `keys` random 12-byte keys that satisfy `accept`. */
function slotCounts(seed: number, keys: number, slots: number, accept: (key: Uint8Array) => boolean): number[] {
  const random = new Mulberry32(seed);
  const counts = new Array<number>(slots).fill(0);
  let taken = 0;
  while (taken < keys) {
    const key = random.bytes(12);
    if (!accept(key)) continue;
    const slot = slotForKey(key, slots) ?? -1;
    counts[slot] = (counts[slot] ?? 0) + 1;
    taken += 1;
  }
  return counts;
}

describe('slotForKey', () => {
  it('gives the same slot for the same key, as jumpHash(xxh64(key, SLOT_HASH_SEED))', () => {
    const random = new Mulberry32(5);
    for (let i = 0; i < 1_000; i++) {
      const key = random.bytes(random.nextInt(50));
      const slot = slotForKey(key, 16);
      expect(slotForKey(Uint8Array.from(key), 16)).toBe(slot);
      expect(slot).toBe(jumpHash(xxh64(key, SLOT_HASH_SEED), 16));
    }
  });

  it('spreads 100,000 keys over 16 slots within 5% of the mean', () => {
    const counts = slotCounts(21, 100_000, 16, () => true);
    for (const count of counts) {
      expect(count).toBeGreaterThanOrEqual(6_250 * 0.95);
      expect(count).toBeLessThanOrEqual(6_250 * 1.05);
    }
  });

  it('spreads the keys of a single partition over all slots', () => {
    // What a consumer owning one partition sees. With the partition hash
    // (seed 0) every key of partition 0 of 8 would land in slot 0 of 4.
    for (const [partition, partitions, slots] of [
      [0, 8, 4],
      [2, 8, 4],
      [5, 8, 16],
    ] as const) {
      const counts = slotCounts(partition, 20_000, slots, (key) => partitionForKey(key, partitions) === partition);
      const mean = 20_000 / slots;
      for (const count of counts) {
        expect(count).toBeGreaterThanOrEqual(mean * 0.9);
        expect(count).toBeLessThanOrEqual(mean * 1.1);
      }
    }
  });

  it('returns undefined for a record without a key (the caller round-robins)', () => {
    expect(slotForKey(undefined, 4)).toBeUndefined();
  });

  it('treats the empty key as a key', () => {
    expect(slotForKey(new Uint8Array(0), 8)).toBe(jumpHash(xxh64(new Uint8Array(0), SLOT_HASH_SEED), 8));
  });

  it('rejects slot counts outside 1..2^31-1, with or without a key', () => {
    for (const slots of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => slotForKey(new Uint8Array(1), slots)).toThrow(RangeError);
      expect(() => slotForKey(undefined, slots)).toThrow(RangeError);
    }
  });
});
