import { checkBucketCount } from './bucket-count.js';
import { checkUint64, mulHi32, splitUint64 } from './uint64.js';

// The paper's LCG multiplier 2862933555777941757 = 0x27bb2ee687b0b0fd.
const LCG_HI = 0x27bb2ee6 | 0;
const LCG_LO = 0x87b0b0fd | 0;
const TWO_31 = 0x8000_0000;

/**
 * Jump Consistent Hash of a 64-bit key given as hi/lo words (int32 or uint32
 * bit patterns), for the hot path. `buckets` is not validated here; callers
 * check it once with `checkBucketCount`.
 *
 * Mirrors the reference code of Lamping & Veach, "A Fast, Minimal Memory,
 * Consistent Hash Algorithm" (2014), figure 1:
 *
 * ```c
 * int64_t b = -1, j = 0;
 * while (j < num_buckets) {
 *   b = j;
 *   key = key * 2862933555777941757ULL + 1;
 *   j = (b + 1) * (double(1LL << 31) / double((key >> 33) + 1));
 * }
 * return b;
 * ```
 *
 * The LCG step runs on 32-bit halves; `key >> 33` is the high word shifted
 * by one. The division and product are IEEE doubles exactly as in the C code
 * (every operand is an integer below 2^53, so the conversions are exact and
 * any language doing the same double arithmetic gets the same `j`).
 */
export function jumpHashParts(hi: number, lo: number, buckets: number): number {
  let keyHi = hi | 0;
  let keyLo = lo | 0;
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    // key = key * LCG + 1 (mod 2^64)
    const mLo = Math.imul(keyLo, LCG_LO);
    const mHi = (mulHi32(keyLo, LCG_LO) + Math.imul(keyHi, LCG_LO) + Math.imul(keyLo, LCG_HI)) | 0;
    keyLo = (mLo + 1) | 0;
    keyHi = keyLo === 0 ? (mHi + 1) | 0 : mHi;
    // The C cast from double to int64 truncates; j is never negative.
    j = Math.floor((b + 1) * (TWO_31 / ((keyHi >>> 1) + 1)));
  }
  return b;
}

/**
 * Jump Consistent Hash (Lamping & Veach 2014): maps a 64-bit key hash to a
 * bucket in `0..buckets-1` so that growing from n to n+1 buckets moves only
 * about 1/(n+1) of the keys, all of them into the new bucket n.
 *
 * `hash` must be an unsigned 64-bit value (0..2^64-1) and `buckets` an
 * integer in 1..2^31-1; anything else throws a `RangeError`.
 */
export function jumpHash(hash: bigint, buckets: number): number {
  checkUint64(hash, 'hash');
  checkBucketCount(buckets, 'buckets');
  const [hi, lo] = splitUint64(hash);
  return jumpHashParts(hi, lo, buckets);
}
