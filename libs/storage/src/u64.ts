/**
 * Unsigned 64-bit big-endian integers for keys and values, as JavaScript
 * numbers. Offsets, timestamps and sizes stay below 2^53, so a number is
 * exact and cheaper than a bigint; big-endian makes encoded keys sort like
 * the numbers.
 */
import { InvalidArgumentError } from '@braid/core';

const TWO_32 = 2 ** 32;

/** Throws unless `value` is an integer in [0, 2^53). */
export function assertU53(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be an integer in [0, 2^53), got ${value}`, { metadata: { [name]: String(value) } });
  }
}

/** Throws unless `value` is an integer in [0, 2^32). */
export function assertU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_32) {
    throw new InvalidArgumentError(`${name} must be an integer in [0, 2^32), got ${value}`, { metadata: { [name]: String(value) } });
  }
}

/** Writes `value` (< 2^53) as 8 big-endian bytes at `at`. */
export function writeU64(buffer: Buffer, value: number, at: number): void {
  buffer.writeUInt32BE(Math.floor(value / TWO_32), at);
  buffer.writeUInt32BE(value >>> 0, at + 4);
}

/** Reads 8 big-endian bytes at `at`; throws if the value is 2^53 or more. */
export function readU64(buffer: Buffer, at: number): number {
  const high = buffer.readUInt32BE(at);
  if (high >= 2 ** 21) throw new RangeError(`64-bit value at byte ${at} exceeds 2^53`);
  return high * TWO_32 + buffer.readUInt32BE(at + 4);
}
