import { checkBucketCount } from './bucket-count.js';
import { jumpHashParts } from './jump-hash.js';
import type { Uint64Parts } from './xxhash64.js';
import { xxh64Into } from './xxhash64.js';

const hash: Uint64Parts = { hi: 0, lo: 0 };

/**
 * The partition of a keyed record: `jumpHash(xxh64(key), partitions)`, with
 * XXH64 seed 0 over the raw key bytes (proto/PARTITIONING.md). Producers,
 * brokers and clients in other languages all compute the same partition.
 *
 * An empty key (zero bytes) is a key like any other; records with no key at
 * all are spread by the caller with {@link RoundRobin}.
 *
 * Throws a `RangeError` unless `partitions` is an integer in 1..2^31-1.
 */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  checkBucketCount(partitions, 'partitions');
  xxh64Into(key, key.length, 0, 0, hash);
  return jumpHashParts(hash.hi, hash.lo, partitions);
}
