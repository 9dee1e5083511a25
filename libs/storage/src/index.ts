/**
 * Braid's storage engine on RocksDB: one database per process, ordered
 * binary keys, partition logs with group commit, idempotent producers,
 * retention, crash recovery, durable subscription state and durable retry
 * states with a due index.
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
export { groupCommitDefaults, logStoreDefaults, retentionDefaults, retryLedgerLimits, subscriptionStoreDefaults, tailCacheDefaults } from './defaults.js';
export type { TailCacheLimits, TailCacheStats } from './tail-cache.js';
export { OffsetRangeSet } from './offset-range-set.js';
export type { OffsetRange } from './offset-range-set.js';
export { SubscriptionStore } from './subscription-store.js';
export type { SubscriptionStateEntry, SubscriptionStoreOptions, SubscriptionStoreStats } from './subscription-store.js';
export { newSubscriptionState, encodeSubscriptionState, decodeSubscriptionState } from './subscription-state.js';
export type { SubscriptionPartitionState } from './subscription-state.js';
export { RetryStore } from './retry-store.js';
export type { RetryStoreStats, StoredDueTimes } from './retry-store.js';
export {
  compareDuePositions,
  compareRetryKeys,
  decodeRetryState,
  duePositionOf,
  encodeRetryState,
  retryKeyId,
  waitsForTimer,
} from './retry-state.js';
export type { AttemptDisposition, AttemptEntry, DuePosition, RetryKey, RetryState } from './retry-state.js';
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
  retryStateKey,
  decodeRetryStateKey,
  retryDueKey,
  decodeRetryDueKey,
  retrySubscriptionRange,
  keyspaceRange,
  topicRange,
  prefixRange,
} from './keys.js';
export type { KeyspaceId, PartitionAddress, LogKey, ProducerKey, SubscriptionKey, RetryStateKey, RetryDueKey } from './keys.js';
