import { checkBucketCount } from './bucket-count.js';

const COUNTER_LIMIT = 0x1_0000_0000;

/**
 * Spreads records without a key over partitions (or worker slots) in turn:
 * `next(n)` returns `start % n`, `(start + 1) % n`, ...
 *
 * The count may change between calls (a topic grew); the rotation carries
 * on over the new count. The counter wraps at 2^32, which only matters once
 * every four billion records.
 *
 * Producers should pass a random `start` (from an injected `Random`), so
 * that many producers starting together do not all send their first
 * keyless record to partition 0.
 */
export class RoundRobin {
  #counter: number;

  /**
   * @param start - first counter value, an integer in 0..2^32-1 (default 0);
   *   otherwise a `RangeError`.
   */
  constructor(start = 0) {
    if (!Number.isInteger(start) || start < 0 || start >= COUNTER_LIMIT) {
      throw new RangeError(`start must be an integer in 0..${COUNTER_LIMIT - 1}, got ${String(start)}`);
    }
    this.#counter = start;
  }

  /**
   * The next index in `0..count-1`. Throws a `RangeError` unless `count` is
   * an integer in 1..2^31-1.
   */
  next(count: number): number {
    checkBucketCount(count, 'count');
    const index = this.#counter % count;
    this.#counter = (this.#counter + 1) % COUNTER_LIMIT;
    return index;
  }
}
