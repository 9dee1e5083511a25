import { MAX_BUCKETS } from './bucket-count.js';

const encoder = new TextEncoder();

/**
 * The rendezvous item for a partition: the UTF-8 bytes of
 * `${topic}/${partition}` with the partition in decimal, e.g. `orders/3`.
 *
 * Used both to place a partition's replicas on brokers and to pick the
 * subscription member that owns a partition in `PARTITIONED` mode. Every
 * component must build the item the same way or they disagree on owners,
 * hence one helper. The partition number is last and purely decimal, so
 * topics containing `/` still give distinct items.
 *
 * Throws a `RangeError` unless `partition` is an integer in 0..2^31-2.
 */
export function partitionItem(topic: string, partition: number): Uint8Array {
  if (!Number.isInteger(partition) || partition < 0 || partition >= MAX_BUCKETS) {
    throw new RangeError(`partition must be an integer in 0..${MAX_BUCKETS - 1}, got ${String(partition)}`);
  }
  return encoder.encode(`${topic}/${partition}`);
}

/**
 * The rendezvous item for a record key in `KEY_SHARED` mode: the raw key
 * bytes, unchanged (no topic, no prefix). Exists so call sites say which
 * encoding they mean.
 */
export function keyItem(key: Uint8Array): Uint8Array {
  return key;
}
