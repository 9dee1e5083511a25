import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../test/prng.js';
import { MAX_BUCKETS } from './bucket-count.js';
import { jumpHash } from './jump-hash.js';

/**
 * The paper's code transcribed with BigInt: no 32-bit tricks, to check the
 * fast implementation against.
 */
function referenceJumpHash(hash: bigint, buckets: number): number {
  let key = hash;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    key = (key * 2862933555777941757n + 1n) & 0xffff_ffff_ffff_ffffn;
    j = Math.trunc((b + 1) * (2 ** 31 / (Number(key >> 33n) + 1)));
  }
  return b;
}

describe('jumpHash', () => {
  it('reproduces the Go port of the paper code (github.com/dgryski/go-jump)', () => {
    expect(jumpHash(1n, 1)).toBe(0);
    expect(jumpHash(42n, 57)).toBe(43);
    expect(jumpHash(0xdead10ccn, 1)).toBe(0);
    expect(jumpHash(0xdead10ccn, 666)).toBe(361);
    expect(jumpHash(256n, 1024)).toBe(520);
  });

  it('uses the paper’s double expression, not an algebraically equal one', () => {
    // At the second step of this key, (b + 1) * 2^31 / x is exactly 64. The
    // paper's (b + 1) * (2^31 / x) rounds twice and lands just below 64, so
    // the walk goes on to bucket 63; Guava's (b + 1) / (x / 2^31) gives 64
    // and stops at 48. Clients in other languages must match the paper.
    expect(jumpHash(0x85f6aa692c228cddn, 64)).toBe(63);
    expect(jumpHash(0x85f6aa692c228cddn, 1000)).toBe(543);
  });

  it('matches the BigInt reference on 100,000 random inputs', () => {
    const random = new Mulberry32(0x1234);
    const mismatches: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const hash = random.nextUint64();
      // Half small counts (typical topics), half anywhere up to 2^31-1.
      const buckets = i % 2 === 0 ? 1 + random.nextInt(1024) : 1 + random.nextInt(MAX_BUCKETS);
      const got = jumpHash(hash, buckets);
      const want = referenceJumpHash(hash, buckets);
      if (got !== want) mismatches.push(`${hash.toString(16)} % ${buckets}: ${got} != ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('handles the extreme hashes and bucket counts', () => {
    for (const hash of [0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0xffff_ffffn]) {
      for (const buckets of [1, 2, 3, MAX_BUCKETS - 1, MAX_BUCKETS]) {
        const bucket = jumpHash(hash, buckets);
        expect(bucket).toBe(referenceJumpHash(hash, buckets));
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(buckets);
      }
    }
  });

  it('rejects bucket counts outside 1..2^31-1', () => {
    for (const buckets of [0, -1, 1.5, Number.NaN, Infinity, MAX_BUCKETS + 1]) {
      expect(() => jumpHash(1n, buckets)).toThrow(RangeError);
    }
  });

  it('rejects hashes outside 0..2^64-1', () => {
    expect(() => jumpHash(-1n, 8)).toThrow(RangeError);
    expect(() => jumpHash(1n << 64n, 8)).toThrow(RangeError);
  });
});
