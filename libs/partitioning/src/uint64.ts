/**
 * 64-bit unsigned arithmetic on hi/lo uint32 pairs, for the hash hot paths.
 *
 * BigInt arithmetic allocates on every operation and is one to two orders of
 * magnitude slower than the same work on 32-bit halves, so XXH64 and jump
 * hash keep their state as two int32 bit patterns and only convert to
 * `bigint` at the public API edge.
 */

/**
 * High 32 bits of the unsigned 64-bit product of two 32-bit words (given as
 * int32 or uint32 bit patterns). The low 32 bits are `Math.imul(a, b)`.
 *
 * Splits both words into 16-bit limbs. Each partial product is below 2^32,
 * so `Math.imul` yields it exactly (as a uint32 bit pattern) and the whole
 * computation stays in 32-bit integer operations, which V8 keeps untagged;
 * float multiplies here measured about twice as slow.
 */
export function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = Math.imul(a0, b0);
  const mid1 = Math.imul(a1, b0);
  const mid2 = Math.imul(a0, b1);
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (Math.imul(a1, b1) + (mid1 >>> 16) + (mid2 >>> 16) + carry) | 0;
}

/**
 * High word of the 64-bit product a * b (mod 2^64), operands as hi/lo words.
 * The low word is `Math.imul(aLo, bLo)`.
 */
export function mulHi64(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return (mulHi32(aLo, bLo) + Math.imul(aHi, bLo) + Math.imul(aLo, bHi)) | 0;
}

/** Splits an unsigned 64-bit `bigint` into [hi, lo] uint32 words. */
export function splitUint64(value: bigint): [hi: number, lo: number] {
  return [Number((value >> 32n) & 0xffff_ffffn), Number(value & 0xffff_ffffn)];
}

/** Joins hi/lo words (int32 or uint32 bit patterns) into an unsigned `bigint`. */
export function joinUint64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Throws a `RangeError` unless `value` is in 0..2^64-1. */
export function checkUint64(value: bigint, what: string): void {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`${what} must be an unsigned 64-bit integer, got ${value}`);
  }
}
