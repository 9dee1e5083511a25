import xxhash from 'xxhash-wasm';
import { describe, expect, it } from 'vitest';
import { Mulberry32 } from '../test/prng.js';
import type { Uint64Parts } from './xxhash64.js';
import { xxh64, xxh64Into } from './xxhash64.js';

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const EDGE_LENGTHS = [0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 64, 1000];

describe('xxh64', () => {
  it('matches published XXH64 values (seed 0)', () => {
    // Values from the xxHash project's documentation and test suites.
    expect(xxh64(new Uint8Array(0))).toBe(0xef46db3751d8e999n);
    expect(xxh64(utf8('a'))).toBe(0xd24ec4f1a98c6e5bn);
    expect(xxh64(utf8('abc'))).toBe(0x44bc2cf5ad770999n);
    expect(xxh64(utf8('The quick brown fox jumps over the lazy dog'))).toBe(0x0b242d361fda71bcn);
  });

  it('agrees with xxhash-wasm on 10,000 random inputs of 0..100 bytes and on edge lengths', async () => {
    const reference = await xxhash();
    const random = new Mulberry32(0x5eed);
    const inputs: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) inputs.push(random.bytes(random.nextInt(101)));
    for (const length of EDGE_LENGTHS) {
      for (let i = 0; i < 20; i++) inputs.push(random.bytes(length));
      inputs.push(new Uint8Array(length), new Uint8Array(length).fill(0xff));
    }
    const mismatches = inputs.filter((input) => xxh64(input) !== reference.h64Raw(input, 0n));
    expect(mismatches.map((m) => Buffer.from(m).toString('hex'))).toEqual([]);
  });

  it('agrees with xxhash-wasm for non-zero seeds', async () => {
    const reference = await xxhash();
    const random = new Mulberry32(7);
    for (let i = 0; i < 2_000; i++) {
      const input = random.bytes(random.nextInt(80));
      const seed = i === 0 ? 0xffff_ffff_ffff_ffffn : random.nextUint64();
      expect(xxh64(input, seed)).toBe(reference.h64Raw(input, seed));
    }
  });

  it('hashes only the first `length` bytes with xxh64Into', () => {
    const random = new Mulberry32(11);
    const out: Uint64Parts = { hi: 0, lo: 0 };
    for (const length of EDGE_LENGTHS) {
      const data = random.bytes(length + 9);
      xxh64Into(data, length, 0, 0, out);
      const joined = (BigInt(out.hi) << 32n) | BigInt(out.lo);
      expect(joined).toBe(xxh64(data.subarray(0, length)));
    }
  });

  it('rejects seeds outside 0..2^64-1', () => {
    expect(() => xxh64(new Uint8Array(1), -1n)).toThrow(RangeError);
    expect(() => xxh64(new Uint8Array(1), 1n << 64n)).toThrow(RangeError);
  });
});
