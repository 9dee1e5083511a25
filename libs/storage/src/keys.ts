/**
 * The key layout of a broker's one RocksDB database. Every key is an ordered
 * binary tuple behind a one-byte keyspace prefix; integers are big-endian,
 * so keys sort bytewise exactly like the tuples they encode and a partition's
 * log is one contiguous range scan.
 *
 * | keyspace | key | value |
 * |---|---|---|
 * | `0x01` log | `[0x01][topicId u32][partition u32][offset u64]` | `[timestamp ms u64][payload]` (`log-entry.ts`) |
 * | `0x02` partition meta | `[0x02][topicId u32][partition u32]` | log start, size, retention (`partition-meta.ts`) |
 * | `0x03` producer state | `[0x03][topicId u32][partition u32][producerId utf8]` | last batches (`producer-state.ts`) |
 * | `0x04` subscription state | `[0x04][topicId u32][partition u32][subscription utf8]` | cursor, acks, attempts (`subscription-state.ts`) |
 * | `0x05` timers | reserved: `[0x05][...]`, ordered by due time | later issue (`deliver_at`) |
 * | `0x06` misc metadata | `[0x06][kind u8][...]` | kind `0x01`: pending topic drop `[0x06][0x01][topicId u32]`; kind `0x02`: pending retry drop `[0x06][0x02][topicId u32][subscription utf8]` |
 * | `0x07` retry state | `[0x07][topicId u32][partition u32][subscription utf8][0x00][offset u64]` | attempt ledger, due time (`retry-state.ts`) |
 * | `0x08` retry due index | `[0x08][dueMs u64][topicId u32][partition u32][subscription utf8][0x00][offset u64]` | empty: one entry per waiting `0x07` state |
 *
 * Subscription names hold no byte below `-` (0x2d), so the `0x00` after a
 * name ends it: `[name][0x00]` is a prefix of exactly that subscription's
 * keys, and `a` sorts before `a-b` as it does in `0x04`.
 */
import { InvalidArgumentError, assertValidName } from '@braid/core';
import type { KeyRange } from './database.js';
import { assertU32, assertU53, readU64, writeU64 } from './u64.js';

/** The one-byte prefix of each keyspace. */
export const Keyspace = {
  /** Log records. */
  log: 0x01,
  /** Per-partition metadata: log start offset, size, retention. */
  partitionMeta: 0x02,
  /** Idempotent producer state per (partition, producer). */
  producer: 0x03,
  /** Delivery state per (partition, subscription): cursor, acks, attempts. */
  subscription: 0x04,
  /** Reserved: the timer index of delayed publishes (`deliver_at`). */
  timer: 0x05,
  /** Miscellaneous metadata, `[0x06][kind u8][...]`. */
  misc: 0x06,
  /** Retry state per (partition, subscription, offset): attempt ledger and due time. */
  retry: 0x07,
  /** The retry due index: `(dueMs, topic, partition, subscription, offset)`, empty values. */
  retryDue: 0x08,
} as const;

/** A keyspace prefix byte. */
export type KeyspaceId = (typeof Keyspace)[keyof typeof Keyspace];

/** Kinds inside the misc keyspace (`[0x06][kind]...`). */
export const MiscKind = {
  /** A topic whose data is being deleted: `[0x06][0x01][topicId u32]`, value empty. */
  pendingTopicDrop: 0x01,
  /**
   * A subscription whose retry states are being deleted:
   * `[0x06][0x02][topicId u32][subscription utf8]`, value empty.
   */
  pendingRetryDrop: 0x02,
} as const;

/** A partition address: topic id and partition number. */
export interface PartitionAddress {
  topicId: number;
  partition: number;
}

/** A decoded log key. */
export interface LogKey extends PartitionAddress {
  offset: number;
}

/** A decoded producer-state key. */
export interface ProducerKey extends PartitionAddress {
  producerId: string;
}

/** A decoded subscription-state key. */
export interface SubscriptionKey extends PartitionAddress {
  subscription: string;
}

/** Bytes of a log key. */
export const LOG_KEY_BYTES = 17;
const PARTITION_PREFIX_BYTES = 9;

function partitionPrefix(keyspace: KeyspaceId, topicId: number, partition: number, extra: number): Buffer {
  assertU32('topicId', topicId);
  assertU32('partition', partition);
  const key = Buffer.allocUnsafe(PARTITION_PREFIX_BYTES + extra);
  key[0] = keyspace;
  key.writeUInt32BE(topicId, 1);
  key.writeUInt32BE(partition, 5);
  return key;
}

function expectKey(key: Buffer, keyspace: KeyspaceId, minLength: number, what: string): void {
  if (key.length < minLength || key[0] !== keyspace) {
    throw new InvalidArgumentError(`not a ${what} key: ${key.toString('hex')}`);
  }
}

/**
 * The smallest key greater than every key that starts with `prefix`
 * (increment the last byte that is not 0xff, drop what follows). Undefined
 * when the prefix is all 0xff: no upper bound exists.
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] ?? 0xff;
    if (byte !== 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return undefined;
}

/** Every key that starts with `prefix`. */
export function prefixRange(prefix: Buffer): KeyRange {
  const end = prefixEnd(prefix);
  return end ? { gte: prefix, lt: end } : { gte: prefix };
}

/** `[0x01][topicId][partition][offset]`. */
export function logKey(topicId: number, partition: number, offset: number): Buffer {
  assertU53('offset', offset);
  const key = partitionPrefix(Keyspace.log, topicId, partition, 8);
  writeU64(key, offset, PARTITION_PREFIX_BYTES);
  return key;
}

/**
 * A fast `logKey` for one partition: validates topic and partition once;
 * each call only checks the offset and writes 8 bytes after a copied prefix.
 */
export function logKeyEncoder(topicId: number, partition: number): (offset: number) => Buffer {
  const prefix = partitionPrefix(Keyspace.log, topicId, partition, 0);
  return (offset) => {
    assertU53('offset', offset);
    const key = Buffer.allocUnsafe(LOG_KEY_BYTES);
    prefix.copy(key, 0);
    writeU64(key, offset, PARTITION_PREFIX_BYTES);
    return key;
  };
}

/** Decodes a log key. */
export function decodeLogKey(key: Buffer): LogKey {
  expectKey(key, Keyspace.log, LOG_KEY_BYTES, 'log');
  return { topicId: key.readUInt32BE(1), partition: key.readUInt32BE(5), offset: readU64(key, PARTITION_PREFIX_BYTES) };
}

/** Every log key of one partition. */
export function logRange(topicId: number, partition: number): KeyRange {
  return prefixRange(partitionPrefix(Keyspace.log, topicId, partition, 0));
}

/** Log keys of one partition in [fromOffset, toOffset). */
export function logOffsetRange(topicId: number, partition: number, fromOffset: number, toOffset: number): KeyRange {
  return { gte: logKey(topicId, partition, fromOffset), lt: logKey(topicId, partition, toOffset) };
}

/** `[0x02][topicId][partition]`. */
export function partitionMetaKey(topicId: number, partition: number): Buffer {
  return partitionPrefix(Keyspace.partitionMeta, topicId, partition, 0);
}

/** Decodes a partition meta key. */
export function decodePartitionMetaKey(key: Buffer): PartitionAddress {
  expectKey(key, Keyspace.partitionMeta, PARTITION_PREFIX_BYTES, 'partition meta');
  return { topicId: key.readUInt32BE(1), partition: key.readUInt32BE(5) };
}

/** `[0x03][topicId][partition][producerId utf8]`. */
export function producerKey(topicId: number, partition: number, producerId: string): Buffer {
  const id = Buffer.from(producerId, 'utf8');
  const key = partitionPrefix(Keyspace.producer, topicId, partition, id.length);
  id.copy(key, PARTITION_PREFIX_BYTES);
  return key;
}

/** Decodes a producer-state key. */
export function decodeProducerKey(key: Buffer): ProducerKey {
  expectKey(key, Keyspace.producer, PARTITION_PREFIX_BYTES, 'producer');
  return {
    topicId: key.readUInt32BE(1),
    partition: key.readUInt32BE(5),
    producerId: key.toString('utf8', PARTITION_PREFIX_BYTES),
  };
}

/**
 * `[0x04][topicId][partition][subscription utf8]`. Throws
 * `InvalidNameError` (INVALID_ARGUMENT) unless `subscription` follows the
 * naming rules (1-249 of `[A-Za-z0-9._-]`): an empty name would be the
 * partition's prefix itself, and since no name holds a byte below `-`
 * (0x2d), a later issue can put per-subscription keys at
 * `[...][subscription][0x00][...]`: they sort after this key and before
 * `[...][subscription][0x01]`, never between two other subscriptions' keys.
 */
export function subscriptionKey(topicId: number, partition: number, subscription: string): Buffer {
  assertValidName('subscription', subscription);
  const name = Buffer.from(subscription, 'utf8');
  const key = partitionPrefix(Keyspace.subscription, topicId, partition, name.length);
  name.copy(key, PARTITION_PREFIX_BYTES);
  return key;
}

/** Decodes a subscription-state key. */
export function decodeSubscriptionKey(key: Buffer): SubscriptionKey {
  expectKey(key, Keyspace.subscription, PARTITION_PREFIX_BYTES + 1, 'subscription');
  return {
    topicId: key.readUInt32BE(1),
    partition: key.readUInt32BE(5),
    subscription: key.toString('utf8', PARTITION_PREFIX_BYTES),
  };
}

/** Every subscription-state key of one partition. */
export function subscriptionPartitionRange(topicId: number, partition: number): KeyRange {
  return prefixRange(partitionPrefix(Keyspace.subscription, topicId, partition, 0));
}

/** Every subscription-state key of one topic (all its partitions). */
export function subscriptionTopicRange(topicId: number): KeyRange {
  return topicRange(Keyspace.subscription, topicId);
}

/** Every key of `keyspace`. */
export function keyspaceRange(keyspace: KeyspaceId): KeyRange {
  return prefixRange(Buffer.from([keyspace]));
}

/** Every key of `keyspace` that belongs to `topicId` (keyspaces 0x01-0x04 and 0x07 start with it). */
export function topicRange(keyspace: KeyspaceId, topicId: number): KeyRange {
  assertU32('topicId', topicId);
  const prefix = Buffer.allocUnsafe(5);
  prefix[0] = keyspace;
  prefix.writeUInt32BE(topicId, 1);
  return prefixRange(prefix);
}

/** `[0x06][0x01][topicId]`: marks a topic whose deletion has begun. */
export function pendingTopicDropKey(topicId: number): Buffer {
  assertU32('topicId', topicId);
  const key = Buffer.allocUnsafe(6);
  key[0] = Keyspace.misc;
  key[1] = MiscKind.pendingTopicDrop;
  key.writeUInt32BE(topicId, 2);
  return key;
}

/** Every pending-topic-drop marker. */
export function pendingTopicDropRange(): KeyRange {
  return prefixRange(Buffer.from([Keyspace.misc, MiscKind.pendingTopicDrop]));
}

/** The topic id of a pending-topic-drop marker. */
export function decodePendingTopicDropKey(key: Buffer): number {
  if (key.length !== 6 || key[0] !== Keyspace.misc || key[1] !== MiscKind.pendingTopicDrop) {
    throw new InvalidArgumentError(`not a pending topic drop key: ${key.toString('hex')}`);
  }
  return key.readUInt32BE(2);
}

/** A decoded retry-state key: one record of one subscription partition. */
export interface RetryStateKey extends SubscriptionKey {
  offset: number;
}

/** A decoded retry due-index key. */
export interface RetryDueKey extends RetryStateKey {
  dueMs: number;
}

const RETRY_DUE_PREFIX_BYTES = 9;

/** Writes `[topicId][partition][subscription][0x00][offset]` at `at`. */
function writeRetryTuple(key: Buffer, at: number, topicId: number, partition: number, name: Buffer, offset: number): void {
  key.writeUInt32BE(topicId, at);
  key.writeUInt32BE(partition, at + 4);
  name.copy(key, at + 8);
  key[at + 8 + name.length] = 0;
  writeU64(key, offset, at + 9 + name.length);
}

function checkRetryTuple(topicId: number, partition: number, subscription: string, offset: number): Buffer {
  assertU32('topicId', topicId);
  assertU32('partition', partition);
  assertValidName('subscription', subscription);
  assertU53('offset', offset);
  return Buffer.from(subscription, 'utf8');
}

/**
 * `[0x07][topicId][partition][subscription utf8][0x00][offset]`. Throws
 * `InvalidNameError` for a bad subscription name, `InvalidArgumentError`
 * for ids outside u32 or an offset outside [0, 2^53).
 */
export function retryStateKey(topicId: number, partition: number, subscription: string, offset: number): Buffer {
  const name = checkRetryTuple(topicId, partition, subscription, offset);
  const key = Buffer.allocUnsafe(PARTITION_PREFIX_BYTES + name.length + 9);
  key[0] = Keyspace.retry;
  writeRetryTuple(key, 1, topicId, partition, name, offset);
  return key;
}

/** Reads `[topicId][partition][subscription][0x00][offset]` starting at `at`. */
function readRetryTuple(key: Buffer, at: number, what: string): RetryStateKey {
  const nameEnd = key.length - 9;
  if (nameEnd <= at + 8 || key[nameEnd] !== 0) throw new InvalidArgumentError(`not a ${what} key: ${key.toString('hex')}`);
  return {
    topicId: key.readUInt32BE(at),
    partition: key.readUInt32BE(at + 4),
    subscription: key.toString('utf8', at + 8, nameEnd),
    offset: readU64(key, nameEnd + 1),
  };
}

/** Decodes a retry-state key. */
export function decodeRetryStateKey(key: Buffer): RetryStateKey {
  expectKey(key, Keyspace.retry, PARTITION_PREFIX_BYTES + 10, 'retry state');
  return readRetryTuple(key, 1, 'retry state');
}

/** Every retry-state key of one subscription on one partition, in offset order. */
export function retrySubscriptionRange(topicId: number, partition: number, subscription: string): KeyRange {
  assertValidName('subscription', subscription);
  const name = Buffer.from(subscription, 'utf8');
  const prefix = partitionPrefix(Keyspace.retry, topicId, partition, name.length + 1);
  name.copy(prefix, PARTITION_PREFIX_BYTES);
  prefix[PARTITION_PREFIX_BYTES + name.length] = 0;
  return prefixRange(prefix);
}

/** `[0x07][topicId][partition]`: where a partition's retry-state keys begin (every subscription's). */
export function retryPartitionStart(topicId: number, partition: number): Buffer {
  return partitionPrefix(Keyspace.retry, topicId, partition, 0);
}

/**
 * `[0x08][dueMs][topicId][partition][subscription utf8][0x00][offset]`:
 * sorts by due time first, then like the retry-state key. Validates as
 * {@link retryStateKey} does, and `dueMs` as an integer in [0, 2^53).
 */
export function retryDueKey(dueMs: number, topicId: number, partition: number, subscription: string, offset: number): Buffer {
  assertU53('dueMs', dueMs);
  const name = checkRetryTuple(topicId, partition, subscription, offset);
  const key = Buffer.allocUnsafe(RETRY_DUE_PREFIX_BYTES + 8 + name.length + 9);
  key[0] = Keyspace.retryDue;
  writeU64(key, dueMs, 1);
  writeRetryTuple(key, RETRY_DUE_PREFIX_BYTES, topicId, partition, name, offset);
  return key;
}

/** Decodes a retry due-index key. */
export function decodeRetryDueKey(key: Buffer): RetryDueKey {
  expectKey(key, Keyspace.retryDue, RETRY_DUE_PREFIX_BYTES + 18, 'retry due');
  return { dueMs: readU64(key, 1), ...readRetryTuple(key, RETRY_DUE_PREFIX_BYTES, 'retry due') };
}

/** `[0x08][dueMs]`: where the due-index entries of `dueMs` begin. */
export function retryDuePrefix(dueMs: number): Buffer {
  assertU53('dueMs', dueMs);
  const key = Buffer.allocUnsafe(RETRY_DUE_PREFIX_BYTES);
  key[0] = Keyspace.retryDue;
  writeU64(key, dueMs, 1);
  return key;
}

/** `[0x06][0x02][topicId][subscription utf8]`: marks a subscription whose retry states are being deleted. */
export function pendingRetryDropKey(topicId: number, subscription: string): Buffer {
  assertU32('topicId', topicId);
  assertValidName('subscription', subscription);
  const name = Buffer.from(subscription, 'utf8');
  const key = Buffer.allocUnsafe(6 + name.length);
  key[0] = Keyspace.misc;
  key[1] = MiscKind.pendingRetryDrop;
  key.writeUInt32BE(topicId, 2);
  name.copy(key, 6);
  return key;
}

/** Every pending-retry-drop marker. */
export function pendingRetryDropRange(): KeyRange {
  return prefixRange(Buffer.from([Keyspace.misc, MiscKind.pendingRetryDrop]));
}

/** The topic id and subscription of a pending-retry-drop marker. */
export function decodePendingRetryDropKey(key: Buffer): { topicId: number; subscription: string } {
  if (key.length < 7 || key[0] !== Keyspace.misc || key[1] !== MiscKind.pendingRetryDrop) {
    throw new InvalidArgumentError(`not a pending retry drop key: ${key.toString('hex')}`);
  }
  return { topicId: key.readUInt32BE(2), subscription: key.toString('utf8', 6) };
}
