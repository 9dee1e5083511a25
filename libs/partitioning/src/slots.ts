import { checkBucketCount } from './bucket-count.js';
import { jumpHashParts } from './jump-hash.js';
import type { Uint64Parts } from './xxhash64.js';
import { xxh64Into } from './xxhash64.js';

/**
 * XXH64 seed of the slot hash: the ASCII bytes of `slot` (0x736c6f74).
 *
 * The slot hash must not be the partition hash. Jump hash is monotone: a key
 * in partition p of P stays in bucket p for every count in p+1..P, so with
 * the seed-0 hash every key a consumer receives from partition 0 would land
 * in slot 0 (and partition p < slots in slot p), serialising the consumer. A
 * different seed makes the slot independent of the partition.
 */
export const SLOT_HASH_SEED = 0x736c6f74n;

const SEED_LO = Number(SLOT_HASH_SEED);
const hash: Uint64Parts = { hi: 0, lo: 0 };

/**
 * The worker slot in `0..slots-1` for a record key, for an SDK that runs
 * `slots` handlers concurrently and keeps records of one key in order: all
 * records of a key go to the same slot. Computed as
 * `jumpHash(xxh64(key, SLOT_HASH_SEED), slots)`, so changing the slot count
 * moves few keys.
 *
 * Returns `undefined` for a record without a key: such records have no order
 * to keep, and the caller should pick a slot with a {@link RoundRobin}
 * (`slotForKey(key, n) ?? roundRobin.next(n)`) or any idle worker.
 *
 * Throws a `RangeError` unless `slots` is an integer in 1..2^31-1.
 */
export function slotForKey(key: Uint8Array | undefined, slots: number): number | undefined {
  checkBucketCount(slots, 'slots');
  if (key === undefined) return undefined;
  xxh64Into(key, key.length, 0, SEED_LO, hash);
  return jumpHashParts(hash.hi, hash.lo, slots);
}
