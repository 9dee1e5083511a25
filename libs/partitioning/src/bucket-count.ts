/**
 * The largest bucket count jump hash accepts: the paper's reference code
 * takes an `int32_t num_buckets`, and Braid's `partition` fields are int32.
 */
export const MAX_BUCKETS = 0x7fff_ffff;

/**
 * Throws a `RangeError` unless `count` is an integer in 1..2^31-1.
 *
 * Partition and slot counts come from configuration and the wire; a `0`,
 * `NaN` or `2.5` that slipped through would otherwise turn into a silent
 * `-1` or a skewed spread instead of an error at the call that caused it.
 */
export function checkBucketCount(count: number, what: string): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_BUCKETS) {
    throw new RangeError(`${what} must be an integer in 1..${MAX_BUCKETS}, got ${String(count)}`);
  }
}
