/**
 * The partition logs of one broker, in one RocksDB database: opens and
 * recovers it, hands out `PartitionLog`s, the `SubscriptionStore` and the
 * `RetryStore`, owns
 * the group commit that all of them write through and the retention timer,
 * drops topics, and closes everything in order.
 */
import { FailedPreconditionError, ShuttingDownError } from '@braid/core';
import type { BraidError, Clock, Logger } from '@braid/core';
import { Database } from './database.js';
import type { DatabaseOptions } from './database.js';
import { logStoreDefaults, retentionDefaults, tailCacheDefaults } from './defaults.js';
import { GroupCommit } from './group-commit.js';
import type { GroupCommitOptions } from './group-commit.js';
import { PartitionLog } from './partition-log.js';
import type { PartitionLogContext, PartitionState } from './partition-log.js';
import { recoverPartitions } from './recovery.js';
import { RetentionTimer, applyRetention } from './retention.js';
import { finishPendingRetryDrops } from './retry-drop.js';
import { RetryStore } from './retry-store.js';
import type { RetentionReport } from './retention.js';
import { SubscriptionStore } from './subscription-store.js';
import type { SubscriptionStoreOptions } from './subscription-store.js';
import { TailCacheBudget } from './tail-cache.js';
import type { TailCacheLimits, TailCacheStats } from './tail-cache.js';
import { deleteTopicData, finishPendingTopicDrops } from './topic-drop.js';
import { assertU32 } from './u64.js';

/** Options of {@link LogStore.open}; defaults in `defaults.ts`. */
export interface LogStoreOptions {
  /** Time for retention (default: the system clock). */
  clock?: Clock;
  /** Where the store logs (default: nowhere). */
  logger?: Logger;
  /** Group commit tuning (defaults: 4 batches in flight, 4 MiB per batch). */
  groupCommit?: GroupCommitOptions;
  /** Interval of the background retention pass (default 30 s; 0 = no timer). */
  retentionCheckIntervalMs?: number;
  /** RocksDB tuning (compression off, 32 MiB cache and memtable by default). */
  database?: DatabaseOptions;
  /** Subscription state (default: at most 10,000 stored attempt counts per subscription partition). */
  subscriptions?: SubscriptionStoreOptions;
  /** Recent records kept in memory for readers (defaults in `tailCacheDefaults`; `maxBytes: 0` turns it off). */
  tailCache?: Partial<TailCacheLimits>;
}

/** Figures of a {@link LogStore}. */
export interface LogStoreStats {
  /** Partitions known to the store. */
  partitions: number;
  /** Stored bytes of all durable records (sum of `sizeBytes`). */
  totalBytes: number;
  /** Bytes accepted by `append` (and subscription states handed to the group commit) but not yet durable. */
  unflushedBytes: number;
  /** RocksDB write batches written by the group commit. */
  writeBatches: number;
  /** Of those, written with `sync: true`. */
  syncedWriteBatches: number;
  /** Appends, meta updates and subscription state writes written; more than `writeBatches` when group commit merged them. */
  entriesWritten: number;
  /** Most write batches ever in flight at once (at most `maxInFlightBatches`). */
  peakInFlightBatches: number;
  /** Whether a write failed (see `LogStore.failed`). */
  failed: boolean;
  /** The tail caches: bytes and records held, records served from memory, reads that went to RocksDB. */
  tailCache: TailCacheStats;
}

const emptyState = (): PartitionState => ({
  meta: { logStartOffset: 0, sizeBytes: 0, ...retentionDefaults },
  highWatermark: 0,
  lastTimestampMs: 0,
  producers: new Map(),
});

const addressOf = (topicId: number, partition: number): string => `${topicId}/${partition}`;

/** The partition logs of one broker. */
export class LogStore {
  private readonly partitions = new Map<string, PartitionLog>();
  private readonly droppingTopics = new Set<number>();
  private readonly commit: GroupCommit;
  private readonly context: PartitionLogContext;
  private readonly retentionTimer: RetentionTimer;
  private readonly subscriptionStore: SubscriptionStore;
  private readonly retryStore: RetryStore;
  /** Serialises retention passes and topic drops: both rewrite a partition's head. */
  private maintenance: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: LogStoreOptions,
  ) {
    this.commit = new GroupCommit(db, options.groupCommit, logger);
    this.context = {
      db,
      commit: this.commit,
      logger,
      tails: new TailCacheBudget({
        maxBytes: options.tailCache?.maxBytes ?? tailCacheDefaults.maxBytes,
        maxPartitionBytes: options.tailCache?.maxPartitionBytes ?? tailCacheDefaults.maxPartitionBytes,
        slabBytes: options.tailCache?.slabBytes ?? tailCacheDefaults.slabBytes,
      }),
      checkWritable: () => {
        if (this.commit.failed) throw this.commit.failed;
        this.checkOpen();
      },
      checkReadable: () => { this.checkOpen(); },
    };
    this.subscriptionStore = new SubscriptionStore(
      {
        ...this.context,
        checkTopic: (topicId) => { this.checkNotDropping(topicId); },
        logStartOffset: (topicId, partition) => this.partitions.get(addressOf(topicId, partition))?.logStartOffset ?? 0,
      },
      options.subscriptions,
    );
    this.retryStore = new RetryStore({ ...this.context, checkTopic: (topicId) => { this.checkNotDropping(topicId); } });
    const interval = options.retentionCheckIntervalMs ?? logStoreDefaults.retentionCheckIntervalMs;
    if (!Number.isSafeInteger(interval) || interval < 0) throw new RangeError(`retentionCheckIntervalMs must be an integer >= 0, got ${interval}`);
    this.retentionTimer = new RetentionTimer(clock, interval, () => this.retentionPass(), logger);
  }

  /**
   * Opens (creating if missing) the store in directory `dir` and recovers
   * every partition: high watermarks, log starts, sizes, retention and
   * producer state; topic drops and subscription retry drops interrupted by
   * a crash are finished first.
   */
  static async open(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
    const logger = options.logger ?? logStoreDefaults.logger;
    const db = await Database.open(dir, options.database);
    try {
      await finishPendingTopicDrops(db, logger);
      await finishPendingRetryDrops(db, logger);
      const recovered = await recoverPartitions(db, logger);
      const store = new LogStore(db, options.clock ?? logStoreDefaults.clock, logger, options);
      for (const { topicId, partition, state } of recovered) {
        store.partitions.set(addressOf(topicId, partition), new PartitionLog(store.context, topicId, partition, state));
      }
      logger.info({ dir, partitions: recovered.length }, 'log store opened');
      store.retentionTimer.start();
      return store;
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  /**
   * The log of (`topicId`, `partition`), created empty on first use and
   * cached. Throws `InvalidArgumentError` for ids outside [0, 2^32),
   * `FailedPreconditionError` while the topic is being dropped and
   * `ShuttingDownError` after `close()`.
   */
  partition(topicId: number, partition: number): PartitionLog {
    assertU32('topicId', topicId);
    assertU32('partition', partition);
    this.checkOpen();
    const address = addressOf(topicId, partition);
    const existing = this.partitions.get(address);
    if (existing) return existing;
    this.checkNotDropping(topicId);
    const log = new PartitionLog(this.context, topicId, partition, emptyState());
    this.partitions.set(address, log);
    return log;
  }

  /**
   * The durable subscription state of every partition, in this store's
   * database and written through its group commit. Always the same object.
   */
  subscriptions(): SubscriptionStore {
    return this.subscriptionStore;
  }

  /**
   * The durable retry states (attempt ledgers, due times) and their due
   * index, in this store's database and written through its group commit.
   * Always the same object.
   */
  retries(): RetryStore {
    return this.retryStore;
  }

  /**
   * Deletes every partition of `topicId` with its records, meta, producer
   * state, subscription state and retry states (with their due entries).
   * Appends, subscription saves and retry writes already accepted finish
   * first; later appends on the old `PartitionLog` objects reject with
   * `FailedPreconditionError`, as do subscription and retry calls for the
   * topic while the drop runs. Crash-safe: an interrupted drop completes on
   * the next open. Afterwards `partition(topicId, p)` starts a new, empty
   * log at offset 0 and the topic has no subscription or retry state.
   */
  async dropTopic(topicId: number): Promise<void> {
    assertU32('topicId', topicId);
    this.checkOpen();
    this.droppingTopics.add(topicId);
    const logs = [...this.partitions.values()].filter((log) => log.topicId === topicId);
    // A save written after the range clear would bring the topic's state back: let accepted ones finish first.
    const settled = Promise.all([...logs.map((log) => log.drop()), this.subscriptionStore.settle(topicId), this.retryStore.settle(topicId)]);
    await this.exclusive(async () => {
      try {
        await settled;
        for (const log of logs) this.partitions.delete(addressOf(log.topicId, log.partition));
        await deleteTopicData(this.db, topicId, this.logger);
        this.logger.info({ topicId, partitions: logs.length }, 'topic dropped');
      } finally {
        this.droppingTopics.delete(topicId);
      }
    });
  }

  /**
   * Runs one retention pass over every partition now (the background timer
   * calls this every `retentionCheckIntervalMs`). Passes never overlap each
   * other or a topic drop.
   */
  async runRetentionOnce(): Promise<RetentionReport> {
    this.checkOpen();
    return this.retentionPass();
  }

  private retentionPass(): Promise<RetentionReport> {
    return this.exclusive(async () => {
      const report: RetentionReport = { partitionsTrimmed: 0, recordsDeleted: 0, bytesDeleted: 0 };
      const now = this.clock.now();
      for (const log of [...this.partitions.values()]) {
        if (this.closing) break;
        const { records, bytes } = await applyRetention(log, this.db, now, () => this.closing !== undefined);
        if (records > 0) {
          report.partitionsTrimmed++;
          report.recordsDeleted += records;
          report.bytesDeleted += bytes;
          this.logger.debug({ topicId: log.topicId, partition: log.partition, records, bytes, logStartOffset: log.logStartOffset }, 'retention trimmed partition');
        }
      }
      return report;
    });
  }

  /**
   * Bytes accepted by `append` but not yet durable, across all partitions
   * (stored bytes: 25 + payload per record), plus subscription states handed
   * to the group commit (key + value). The broker compares it with its
   * memory watermark.
   */
  get unflushedBytes(): number {
    return this.commit.unflushedBytes;
  }

  /**
   * The error of the failed RocksDB write that stopped the store, if any.
   * A failed store rejects every write until the process restarts (and
   * recovers); the broker should treat it as fatal.
   */
  get failed(): BraidError | undefined {
    return this.commit.failed;
  }

  /** The partition logs known to the store, for per-partition figures (`sizeBytes`, `highWatermark`). */
  logs(): IterableIterator<PartitionLog> {
    return this.partitions.values();
  }

  /** Partitions, bytes and group-commit counters. */
  stats(): LogStoreStats {
    let totalBytes = 0;
    for (const log of this.partitions.values()) totalBytes += log.sizeBytes;
    const commit = this.commit.stats();
    return {
      partitions: this.partitions.size,
      totalBytes,
      unflushedBytes: commit.unflushedBytes,
      writeBatches: commit.writeBatches,
      syncedWriteBatches: commit.syncedWriteBatches,
      entriesWritten: commit.entriesWritten,
      peakInFlightBatches: commit.peakInFlightBatches,
      failed: this.commit.failed !== undefined,
      tailCache: this.context.tails.stats(),
    };
  }

  /**
   * Stops taking writes (they reject with `ShuttingDownError`), stops
   * retention, waits for every accepted append, subscription save, retry
   * write and retry drop to be written (or failed) and closes the database.
   * Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.retentionTimer.stop();
      await this.maintenance;
      // Before the group commit closes: a lane hands its queued save to it only when its previous write is done.
      await this.subscriptionStore.settle();
      await this.retryStore.settle();
      await this.commit.close();
      await this.db.close();
      this.logger.info({}, 'log store closed');
    })();
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new ShuttingDownError('log store');
  }

  private checkNotDropping(topicId: number): void {
    if (this.droppingTopics.has(topicId)) {
      throw new FailedPreconditionError(`topic ${topicId} is being dropped`, { metadata: { topicId: String(topicId) } });
    }
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.maintenance.then(task);
    // The chain only orders tasks; each caller sees its own task's outcome through `result`.
    this.maintenance = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
