import { checkUint64, joinUint64, mulHi64, splitUint64 } from './uint64.js';

/**
 * A 64-bit value as two unsigned 32-bit words, the form the hot paths pass
 * around instead of `bigint`.
 */
export interface Uint64Parts {
  /** Bits 63..32, as a uint32. */
  hi: number;
  /** Bits 31..0, as a uint32. */
  lo: number;
}

// XXH64 primes (xxhash.h, XXH_PRIME64_1..5) as hi/lo int32 words.
const P1_HI = 0x9e3779b1 | 0;
const P1_LO = 0x85ebca87 | 0;
const P2_HI = 0xc2b2ae3d | 0;
const P2_LO = 0x27d4eb4f | 0;
const P3_HI = 0x165667b1 | 0;
const P3_LO = 0x9e3779f9 | 0;
const P4_HI = 0x85ebca77 | 0;
const P4_LO = 0xc2b2ae63 | 0;
const P5_HI = 0x27d4eb2f | 0;
const P5_LO = 0x165667c5 | 0;
// P1 + P2 and -P1 (mod 2^64): the lane start values minus the seed.
const P1P2_HI = 0x60ea27ee | 0;
const P1P2_LO = 0xadc0b5d6 | 0;
const NEG_P1_HI = 0x61c8864e | 0;
const NEG_P1_LO = 0x7a143579 | 0;

const TWO_32 = 0x1_0000_0000;

/**
 * The four accumulator lanes v1..v4 of inputs of 32 bytes or more, hi/lo
 * interleaved. A typed array because a lane update has two results and a
 * function can return only one without allocating; typed-array stores keep
 * the words untagged. Synchronous code only, so one shared array is safe.
 */
const lanes = new Int32Array(8);

/** Reads a little-endian 32-bit word as an int32 bit pattern. */
function read32(data: Uint8Array, p: number): number {
  return (
    (data[p] ?? 0) |
    ((data[p + 1] ?? 0) << 8) |
    ((data[p + 2] ?? 0) << 16) |
    ((data[p + 3] ?? 0) << 24)
  );
}

/** High word of rotl64((hi, lo), n) for 0 < n < 32. */
function rotlHi(hi: number, lo: number, n: number): number {
  return (hi << n) | (lo >>> (32 - n));
}

/** Low word of rotl64((hi, lo), n) for 0 < n < 32. */
function rotlLo(hi: number, lo: number, n: number): number {
  return (lo << n) | (hi >>> (32 - n));
}

/** Sets lane `i` to (aHi, aLo) + (bHi, bLo) (mod 2^64). */
function setLaneSum(i: number, aHi: number, aLo: number, bHi: number, bLo: number): void {
  const sum = (aLo >>> 0) + (bLo >>> 0);
  lanes[2 * i] = aHi + bHi + (sum >= TWO_32 ? 1 : 0);
  lanes[2 * i + 1] = sum;
}

/** lane[i] = rotl64(lane[i] + input * P2, 31) * P1: XXH64_round. */
function laneRound(i: number, inHi: number, inLo: number): void {
  const accHi = lanes[2 * i] ?? 0;
  const accLo = lanes[2 * i + 1] ?? 0;
  const sum = (accLo >>> 0) + (Math.imul(inLo, P2_LO) >>> 0);
  const sHi = (accHi + mulHi64(inHi, inLo, P2_HI, P2_LO) + (sum >= TWO_32 ? 1 : 0)) | 0;
  const sLo = sum | 0;
  const rHi = rotlHi(sHi, sLo, 31);
  const rLo = rotlLo(sHi, sLo, 31);
  lanes[2 * i] = mulHi64(rHi, rLo, P1_HI, P1_LO);
  lanes[2 * i + 1] = Math.imul(rLo, P1_LO);
}

/**
 * XXH64 of `data[0..length)` with the seed given as hi/lo words; the result
 * goes to `out` as two uint32 words.
 *
 * Follows the reference `XXH64_endian_align` in xxhash.h step by step
 * (stripes of 32 bytes over four lanes, lane merge, then 8-, 4- and 1-byte
 * tails, then the avalanche), with every 64-bit operation done on 32-bit
 * halves: the low word of a product is `Math.imul`, the high word
 * `mulHi64`, and additions carry by comparing the unsigned low sum with
 * 2^32. `length` lets callers hash the front of a reusable buffer without
 * allocating a `subarray`.
 */
export function xxh64Into(
  data: Uint8Array,
  length: number,
  seedHi: number,
  seedLo: number,
  out: Uint64Parts,
): void {
  let p = 0;
  let hHi: number;
  let hLo: number;

  if (length >= 32) {
    setLaneSum(0, seedHi, seedLo, P1P2_HI, P1P2_LO);
    setLaneSum(1, seedHi, seedLo, P2_HI, P2_LO);
    setLaneSum(2, seedHi, seedLo, 0, 0);
    setLaneSum(3, seedHi, seedLo, NEG_P1_HI, NEG_P1_LO);
    const limit = length - 32;
    do {
      laneRound(0, read32(data, p + 4), read32(data, p));
      laneRound(1, read32(data, p + 12), read32(data, p + 8));
      laneRound(2, read32(data, p + 20), read32(data, p + 16));
      laneRound(3, read32(data, p + 28), read32(data, p + 24));
      p += 32;
    } while (p <= limit);

    // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
    let loSum = 0;
    hHi = 0;
    for (let i = 0; i < 4; i++) {
      const n = i === 0 ? 1 : i === 1 ? 7 : i === 2 ? 12 : 18;
      const vHi = lanes[2 * i] ?? 0;
      const vLo = lanes[2 * i + 1] ?? 0;
      loSum += rotlLo(vHi, vLo, n) >>> 0;
      hHi += rotlHi(vHi, vLo, n);
    }
    hHi = (hHi + Math.floor(loSum / TWO_32)) | 0;
    hLo = loSum | 0;

    // XXH64_mergeRound, per lane: h = (h ^ round(0, v)) * P1 + P4
    for (let i = 0; i < 4; i++) {
      const vHi = lanes[2 * i] ?? 0;
      const vLo = lanes[2 * i + 1] ?? 0;
      lanes[2 * i] = 0;
      lanes[2 * i + 1] = 0;
      laneRound(i, vHi, vLo);
      const xHi = hHi ^ (lanes[2 * i] ?? 0);
      const xLo = hLo ^ (lanes[2 * i + 1] ?? 0);
      const sum = (Math.imul(xLo, P1_LO) >>> 0) + (P4_LO >>> 0);
      hHi = (mulHi64(xHi, xLo, P1_HI, P1_LO) + P4_HI + (sum >= TWO_32 ? 1 : 0)) | 0;
      hLo = sum | 0;
    }
  } else {
    // h = seed + P5
    const sum = (seedLo >>> 0) + (P5_LO >>> 0);
    hHi = (seedHi + P5_HI + (sum >= TWO_32 ? 1 : 0)) | 0;
    hLo = sum | 0;
  }

  // h += length, as a 64-bit value
  {
    const sum = (hLo >>> 0) + (length >>> 0);
    hHi = (hHi + Math.floor(length / TWO_32) + (sum >= TWO_32 ? 1 : 0)) | 0;
    hLo = sum | 0;
  }

  // 8-byte words: h ^= round(0, k); h = rotl(h, 27) * P1 + P4
  while (p + 8 <= length) {
    const kLo = read32(data, p);
    const kHi = read32(data, p + 4);
    // round(0, k) = rotl(k * P2, 31) * P1
    const mHi = mulHi64(kHi, kLo, P2_HI, P2_LO);
    const mLo = Math.imul(kLo, P2_LO);
    const rHi = rotlHi(mHi, mLo, 31);
    const rLo = rotlLo(mHi, mLo, 31);
    const xHi = hHi ^ mulHi64(rHi, rLo, P1_HI, P1_LO);
    const xLo = hLo ^ Math.imul(rLo, P1_LO);
    const yHi = rotlHi(xHi, xLo, 27);
    const yLo = rotlLo(xHi, xLo, 27);
    const sum = (Math.imul(yLo, P1_LO) >>> 0) + (P4_LO >>> 0);
    hHi = (mulHi64(yHi, yLo, P1_HI, P1_LO) + P4_HI + (sum >= TWO_32 ? 1 : 0)) | 0;
    hLo = sum | 0;
    p += 8;
  }

  // One 4-byte word: h ^= k * P1; h = rotl(h, 23) * P2 + P3
  if (p + 4 <= length) {
    const k = read32(data, p);
    const xHi = hHi ^ mulHi64(0, k, P1_HI, P1_LO);
    const xLo = hLo ^ Math.imul(k, P1_LO);
    const yHi = rotlHi(xHi, xLo, 23);
    const yLo = rotlLo(xHi, xLo, 23);
    const sum = (Math.imul(yLo, P2_LO) >>> 0) + (P3_LO >>> 0);
    hHi = (mulHi64(yHi, yLo, P2_HI, P2_LO) + P3_HI + (sum >= TWO_32 ? 1 : 0)) | 0;
    hLo = sum | 0;
    p += 4;
  }

  // Single bytes: h ^= byte * P5; h = rotl(h, 11) * P1
  while (p < length) {
    const b = data[p] ?? 0;
    const xHi = hHi ^ mulHi64(0, b, P5_HI, P5_LO);
    const xLo = hLo ^ Math.imul(b, P5_LO);
    const yHi = rotlHi(xHi, xLo, 11);
    const yLo = rotlLo(xHi, xLo, 11);
    hHi = mulHi64(yHi, yLo, P1_HI, P1_LO);
    hLo = Math.imul(yLo, P1_LO);
    p += 1;
  }

  // Avalanche: h ^= h >>> 33; h *= P2; h ^= h >>> 29; h *= P3; h ^= h >>> 32
  hLo ^= hHi >>> 1;
  const aHi = mulHi64(hHi, hLo, P2_HI, P2_LO);
  const aLo = Math.imul(hLo, P2_LO);
  const bHi = aHi ^ (aHi >>> 29);
  const bLo = aLo ^ ((aLo >>> 29) | (aHi << 3));
  const cHi = mulHi64(bHi, bLo, P3_HI, P3_LO);
  const cLo = Math.imul(bLo, P3_LO);
  out.hi = cHi >>> 0;
  out.lo = (cLo ^ cHi) >>> 0;
}

const scratch: Uint64Parts = { hi: 0, lo: 0 };

/**
 * XXH64 (xxHash, 64-bit variant) of `data` as an unsigned 64-bit `bigint`.
 *
 * This is the key hash of Braid's partitioning spec (proto/PARTITIONING.md),
 * where the seed is 0. Throws a `RangeError` if `seed` is not in
 * 0..2^64-1.
 */
export function xxh64(data: Uint8Array, seed = 0n): bigint {
  checkUint64(seed, 'seed');
  const [seedHi, seedLo] = splitUint64(seed);
  xxh64Into(data, data.length, seedHi, seedLo, scratch);
  return joinUint64(scratch.hi, scratch.lo);
}
