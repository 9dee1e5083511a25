/**
 * Braid's storage engine on RocksDB: one database per process, ordered
 * binary keys, partition logs with group commit, idempotent producers,
 * retention, crash recovery and durable subscription state.
 *
 * @packageDocumentation
 */
export { Database } from './database.js';
export type { DatabaseOptions, KeyRange, WriteOp } from './database.js';
export { LogStore } from './log-store.js';
export type { LogStoreOptions, LogStoreStats } from './log-store.js';
export { PartitionLog } from './partition-log.js';
export type { AppendRequest, AppendResult, Durability, ReadLimits, RetentionPolicy } from './partition-log.js';
export type { LogRecord } from './log-entry.js';
export { storedRecordBytes } from './log-entry.js';
export type { GroupCommitOptions } from './group-commit.js';
export type { RetentionReport } from './retention.js';
export { OUT_OF_ORDER_SEQUENCE } from './producer-state.js';
export { groupCommitDefaults, logStoreDefaults, retentionDefaults, subscriptionStoreDefaults } from './defaults.js';
export { OffsetRangeSet } from './offset-range-set.js';
export type { OffsetRange } from './offset-range-set.js';
export { SubscriptionStore } from './subscription-store.js';
export type { SubscriptionStateEntry, SubscriptionStoreOptions, SubscriptionStoreStats } from './subscription-store.js';
export { newSubscriptionState, encodeSubscriptionState, decodeSubscriptionState } from './subscription-state.js';
export type { SubscriptionPartitionState } from './subscription-state.js';
export {
  Keyspace,
  MiscKind,
  logKey,
  decodeLogKey,
  partitionMetaKey,
  decodePartitionMetaKey,
  producerKey,
  decodeProducerKey,
  subscriptionKey,
  decodeSubscriptionKey,
  subscriptionPartitionRange,
  subscriptionTopicRange,
  keyspaceRange,
  topicRange,
  prefixRange,
} from './keys.js';
export type { KeyspaceId, PartitionAddress, LogKey, ProducerKey, SubscriptionKey } from './keys.js';
