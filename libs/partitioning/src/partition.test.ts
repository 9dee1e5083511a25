import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../test/prng.js';
import { jumpHash } from './jump-hash.js';
import { partitionForKey } from './partition.js';
import { xxh64 } from './xxhash64.js';

describe('partitionForKey', () => {
  it('is jumpHash(xxh64(key)) and the same for equal keys', () => {
    const random = new Mulberry32(3);
    for (let i = 0; i < 1_000; i++) {
      const key = random.bytes(random.nextInt(40));
      const partitions = 1 + random.nextInt(500);
      const partition = partitionForKey(key, partitions);
      expect(partition).toBe(jumpHash(xxh64(key), partitions));
      expect(partitionForKey(Uint8Array.from(key), partitions)).toBe(partition);
    }
  });

  it('spreads 1,000,000 keys over 64 partitions within 5% of the mean', () => {
    const random = new Mulberry32(0xfeed);
    const counts = new Array<number>(64).fill(0);
    const key = new Uint8Array(16);
    for (let i = 0; i < 1_000_000; i++) {
      const partition = partitionForKey(random.fill(key), 64);
      counts[partition] = (counts[partition] ?? 0) + 1;
    }
    const mean = 1_000_000 / 64;
    expect(Math.max(...counts)).toBeLessThanOrEqual(mean * 1.05);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(mean * 0.95);
  });

  it.each([1, 7, 8, 63, 100])(
    'moves about 1/(n+1) of 100,000 keys, all into the new partition, when n = %i grows by one',
    (n) => {
      const random = new Mulberry32(n);
      const key = new Uint8Array(12);
      let moved = 0;
      let movedElsewhere = 0;
      for (let i = 0; i < 100_000; i++) {
        random.fill(key);
        const before = partitionForKey(key, n);
        const after = partitionForKey(key, n + 1);
        if (before !== after) {
          moved += 1;
          if (after !== n) movedElsewhere += 1;
        }
      }
      expect(movedElsewhere).toBe(0);
      const expected = 100_000 / (n + 1);
      expect(moved).toBeGreaterThanOrEqual(expected * 0.85);
      expect(moved).toBeLessThanOrEqual(expected * 1.15);
    },
  );

  it('rejects partition counts outside 1..2^31-1', () => {
    const key = new Uint8Array([1]);
    for (const partitions of [0, -1, -8, 2.5, Number.NaN, 2 ** 31]) {
      expect(() => partitionForKey(key, partitions)).toThrow(RangeError);
    }
  });
});
