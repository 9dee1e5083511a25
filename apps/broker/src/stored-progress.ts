/**
 * A subscription's progress on a partition read from storage, for a
 * subscription with no dispatcher on this broker (no member has opened it
 * since the broker started: its consumers are down, or the broker
 * restarted). The committed offset is the stored cursor; nothing is
 * delivered, so nothing is unacked; pending retries are the stored retry
 * timers. A partition with no stored state (never consumed) has no
 * progress to report: undefined.
 */
import type { LogStore, PartitionLog } from '@braid/storage';

/** What `SubscriptionDispatcher.progress()` reports for one partition. */
export interface PartitionProgress {
  partition: number;
  committedOffset: number;
  highWatermark: number;
  unacked: number;
  pendingRetries: number;
}

/** The stored progress of `subscription` on `log`'s partition (see the file comment). */
export async function storedProgress(store: LogStore, log: PartitionLog, subscription: string): Promise<PartitionProgress | undefined> {
  const [state, retries] = await Promise.all([
    store.subscriptions().load(log.topicId, log.partition, subscription),
    store.retries().list(log.topicId, log.partition, subscription),
  ]);
  if (!state) return undefined;
  return { partition: log.partition, committedOffset: state.cursor, highWatermark: log.highWatermark, unacked: 0, pendingRetries: retries.length };
}

/**
 * The stored progress of `subscription` on each of `partitions` of topic
 * `topicId` that this broker's store holds, in partition order; partitions
 * without stored state, or of a topic being dropped, are left out.
 */
export async function storedProgressOf(store: LogStore, topicId: number, partitions: readonly number[], subscription: string): Promise<PartitionProgress[]> {
  const logs = new Map<number, PartitionLog>();
  for (const log of store.logs()) if (log.topicId === topicId) logs.set(log.partition, log);
  const found = await Promise.all(
    partitions.map((partition) => {
      const log = logs.get(partition);
      return log ? storedProgress(store, log, subscription).catch(() => undefined) : Promise.resolve(undefined);
    }),
  );
  return found.filter((progress): progress is PartitionProgress => progress !== undefined);
}
