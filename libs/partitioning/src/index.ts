/**
 * Braid's placement functions, shared by broker, coordinator, client and
 * dlq-admin so that all of them (and clients in other languages, see
 * proto/PARTITIONING.md) agree on where things go:
 *
 * - key -> partition: {@link partitionForKey} (Jump Consistent Hash over
 *   XXH64 of the key); keyless records go round-robin ({@link RoundRobin}).
 * - partition -> brokers and partition/key -> subscription member:
 *   {@link rendezvousOwner} / {@link rendezvousRank} over items built with
 *   {@link partitionItem} or {@link keyItem}; a topic's partitions over
 *   brokers evenly: {@link balancedRendezvous}.
 * - key -> worker slot inside a consumer: {@link slotForKey}.
 *
 * Building blocks: {@link xxh64} and {@link jumpHash}.
 *
 * @packageDocumentation
 */
export { MAX_BUCKETS } from './bucket-count.js';
export { xxh64 } from './xxhash64.js';
export { jumpHash } from './jump-hash.js';
export { partitionForKey } from './partition.js';
export { RoundRobin } from './round-robin.js';
export { partitionItem, keyItem } from './item-encoding.js';
export { rendezvousOwner, rendezvousRank, rendezvousScore } from './rendezvous.js';
export { balancedRendezvous } from './balanced-placement.js';
export { SLOT_HASH_SEED, slotForKey } from './slots.js';
