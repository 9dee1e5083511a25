/**
 * Every default in `@braid/storage`, in one place. Options are merged with
 * `??`, so an explicit `0` is taken as zero (and rejected where zero makes no
 * sense) instead of silently becoming the default.
 */
import { silentLogger, systemClock } from '@braid/core';

const MiB = 1024 * 1024;

/** Defaults for {@link GroupCommitOptions}. */
export const groupCommitDefaults = {
  /**
   * RocksDB write batches in flight at once. RocksDB lets concurrent writers
   * share one WAL sync, so several synced batches in flight nearly double
   * throughput (TOOLCHAIN.md: ~150k -> ~260k records/s with 4). Each one
   * holds a libuv thread-pool thread while it runs, so keep it below
   * `UV_THREADPOOL_SIZE` (default 4) or reads queue behind writes.
   */
  maxInFlightBatches: 4,
  /** Bytes merged into one write batch at most (a single larger append still goes alone). */
  maxBatchBytes: 4 * MiB,
} as const;

/** Defaults for {@link LogStoreOptions}. */
export const logStoreDefaults = {
  /** Real time; tests pass a `FakeClock` from `@braid/core/testing`. */
  clock: systemClock,
  /** Drops everything; apps pass their pino logger. */
  logger: silentLogger,
  /** How often retention runs in the background; 0 turns the timer off (call `runRetentionOnce()`). */
  retentionCheckIntervalMs: 30_000,
} as const;

/**
 * Defaults for the tail caches (`tail-cache.ts`): recent durable records
 * kept in memory so that consumers who keep up are served without a
 * RocksDB read, in 1 MiB slabs of stored values (8 + payload bytes per
 * record): 32 MiB hold ~100,000 records of 256 B + key.
 */
export const tailCacheDefaults = {
  /** All partitions together. */
  maxBytes: 32 * MiB,
  /** One partition at most. */
  maxPartitionBytes: 8 * MiB,
  /** One slab: the unit of allocation and eviction; a larger append is not cached. */
  slabBytes: 1 * MiB,
} as const;

/** Defaults for a partition's {@link RetentionPolicy}: 0 means unlimited. */
export const retentionDefaults = {
  maxAgeMs: 0,
  maxBytes: 0,
} as const;

/** Batches remembered per (partition, producer) for duplicate detection (Kafka keeps 5 too). */
export const producerBatchesRemembered = 5;

/** Longest producer id, in UTF-8 bytes (it is part of a RocksDB key). */
export const maxProducerIdBytes = 256;

/** Log records deleted per write batch by retention (bounds one batch's size). */
export const retentionDeleteChunk = 10_000;

/** Defaults for {@link SubscriptionStoreOptions}. */
export const subscriptionStoreDefaults = {
  /**
   * Attempt counts stored per (partition, subscription) at most: ten
   * members at the default `max_unacked_per_member` of 1000. Every save
   * rewrites the whole state, so this bounds its size (a few bytes per
   * entry). Beyond it the highest counts are kept (see
   * `encodeSubscriptionState`); 0 stores none.
   */
  maxStoredAttempts: 10_000,
} as const;

/**
 * Bounds of a stored retry state (`retry-state.ts`): what a record that
 * keeps failing costs on disk does not grow with its attempts. The first
 * entries say how the trouble began, the last ones what it is now; a
 * policy's `max_attempts` (default 5) stays far below the 32 kept, so only
 * records nacked without end (or with a huge `max_attempts`) lose entries.
 */
export const retryLedgerLimits = {
  /** Oldest ledger entries kept. */
  headEntries: 2,
  /** Newest ledger entries kept. */
  tailEntries: 30,
  /** A member id is cut to this many UTF-8 bytes. */
  memberIdBytes: 256,
  /** A reason is cut to this many UTF-8 bytes. */
  reasonBytes: 1024,
  /** An error class is cut to this many UTF-8 bytes. */
  errorClassBytes: 256,
} as const;

/** Retry states deleted per write batch when a subscription's or topic's retry states are dropped. */
export const retryDropChunk = 5_000;
