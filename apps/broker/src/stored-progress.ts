/**
 * A subscription's progress on a partition read from storage, for a
 * subscription with no dispatcher on this broker (no member has opened it
 * since the broker started: its consumers are down, or the broker
 * restarted). The committed offset is the stored cursor; nothing is
 * delivered, so nothing is unacked; pending retries are the stored retry
 * timers. A partition with no stored state (never consumed) has no
 * progress to report: undefined.
 */
import { FailedPreconditionError } from '@braid/core';
import type { LogStore, PartitionLog } from '@braid/storage';

/** What `SubscriptionDispatcher.progress()` reports for one partition. */
export interface PartitionProgress {
  partition: number;
  committedOffset: number;
  highWatermark: number;
  unacked: number;
  pendingRetries: number;
}

/** Records of the partition the subscription has not settled: high watermark minus committed offset. */
export function lagOf(progress: PartitionProgress): number {
  return Math.max(0, progress.highWatermark - progress.committedOffset);
}

/** The store's partition logs by topic id and partition, for the lookups of one scrape or call. */
export function logsByTopic(store: LogStore): Map<number, Map<number, PartitionLog>> {
  const byTopic = new Map<number, Map<number, PartitionLog>>();
  for (const log of store.logs()) {
    let partitions = byTopic.get(log.topicId);
    if (!partitions) {
      partitions = new Map();
      byTopic.set(log.topicId, partitions);
    }
    partitions.set(log.partition, log);
  }
  return byTopic;
}

/** The stored progress of `subscription` on `log`'s partition (see the file comment). */
async function storedProgress(store: LogStore, log: PartitionLog, subscription: string): Promise<PartitionProgress | undefined> {
  const [state, pendingRetries] = await Promise.all([
    store.subscriptions().load(log.topicId, log.partition, subscription),
    store.retries().count(log.topicId, log.partition, subscription),
  ]);
  if (!state) return undefined;
  return { partition: log.partition, committedOffset: state.cursor, highWatermark: log.highWatermark, unacked: 0, pendingRetries };
}

/**
 * The stored progress of `subscription` on each of `partitions` (of one
 * topic, whose logs are `logs`), in partition order; partitions without a
 * log here or without stored state are left out, and so is everything of a
 * topic being dropped (FAILED_PRECONDITION from the store). Any other
 * storage failure rejects: the caller reports it rather than a lag of 0.
 */
export async function storedProgressOf(
  store: LogStore,
  logs: ReadonlyMap<number, PartitionLog> | undefined,
  partitions: readonly number[],
  subscription: string,
): Promise<PartitionProgress[]> {
  if (!logs) return [];
  try {
    const found = await Promise.all(
      partitions.map((partition) => {
        const log = logs.get(partition);
        return log ? storedProgress(store, log, subscription) : Promise.resolve(undefined);
      }),
    );
    return found.filter((progress): progress is PartitionProgress => progress !== undefined);
  } catch (error) {
    if (error instanceof FailedPreconditionError) return [];
    throw error;
  }
}
