/**
 * The broker's gauges, read from state the broker keeps anyway, at
 * collection time only (a scrape), so that they cost nothing between
 * scrapes: per subscription and partition the consumer lag (high watermark
 * minus committed offset), unsettled records and records waiting to be
 * delivered again (`SubscriptionDispatcher.progress()`); per subscription
 * unused member credit and connected members; per partition stored bytes;
 * bytes not yet durable; what Subscribe streams hold on their way to
 * members (`StreamBuffers`). Counters and histograms are counted where
 * things happen (`consume/dispatch-metrics.ts`, `publish-metrics.ts`).
 *
 * A subscription without a dispatcher here (no member has opened it since
 * this broker started: its consumers are down, or it was restarted) still
 * has a lag, the one that matters most then, and may have retries
 * waiting: both are read from storage (`stored-progress.ts`) for each
 * partition this broker leads. A partition with no stored state (nothing
 * consumed there yet) reports none.
 */
import type { Logger } from '@braid/core';
import type { LogStore } from '@braid/storage';
import { attr } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';
import type { DispatcherRegistry } from './consume/dispatcher-registry.js';
import type { StreamBuffers } from './consume/stream-buffers.js';
import type { MetadataCache } from './metadata-cache.js';
import { lagOf, logsByTopic, storedProgressOf } from './stored-progress.js';

/** Where the gauges read from. */
export interface BrokerGaugeSources {
  metrics: BrokerMetrics;
  dispatchers: DispatcherRegistry;
  store: LogStore;
  cache: MetadataCache;
  streams: StreamBuffers;
  /** This broker's id: the partitions it leads are the ones it reports. */
  brokerId: string;
  logger: Logger;
}

/** Starts reporting the gauges (see the file comment); returns how to stop. */
export function observeBrokerGauges(sources: BrokerGaugeSources): () => void {
  const { metrics, dispatchers, store, cache, streams, brokerId, logger } = sources;
  return metrics.observe(async (result) => {
    const dispatched = new Set<string>();
    for (const dispatcher of dispatchers.ready()) {
      dispatched.add(`${dispatcher.topicId}/${dispatcher.settings.name}`);
      const subscription = dispatcher.metrics;
      for (const progress of dispatcher.progress()) {
        const attributes = subscription.attributes(progress.partition);
        result.observe(metrics.consumerLag, lagOf(progress), attributes);
        result.observe(metrics.unsettled, progress.unacked, attributes);
        result.observe(metrics.pendingRetries, progress.pendingRetries, attributes);
      }
      result.observe(metrics.creditRecords, dispatcher.creditRecords(), subscription.subscriptionAttributes);
      result.observe(metrics.members, dispatcher.memberIds().length, subscription.subscriptionAttributes);
    }
    const logs = logsByTopic(store);
    const stored: Promise<void>[] = [];
    for (const topic of cache.allTopics()) {
      const led = cache.ledPartitions(topic, brokerId);
      if (led.length === 0) continue;
      for (const name of topic.subscriptions.keys()) {
        if (dispatched.has(`${topic.id}/${name}`)) continue;
        stored.push(
          storedProgressOf(store, logs.get(topic.id), led, name).then(
            (progress) => {
              for (const p of progress) {
                const attributes = { [attr.destination]: topic.name, [attr.consumerGroup]: name, [attr.partition]: String(p.partition) };
                result.observe(metrics.consumerLag, lagOf(p), attributes);
                result.observe(metrics.pendingRetries, p.pendingRetries, attributes);
              }
            },
            // The series are left out of this scrape (they read 0 until the next one): said in the log, not hidden.
            (error: unknown) => { logger.warn({ err: error, topic: topic.name, subscription: name }, 'reading stored subscription progress for the lag gauges failed'); },
          ),
        );
      }
    }
    await Promise.all(stored);
    // Partitions of topics no longer in the metadata are being dropped: not reported.
    const topicNames = new Map<number, string>();
    for (const topic of cache.allTopics()) topicNames.set(topic.id, topic.name);
    for (const log of store.logs()) {
      const name = topicNames.get(log.topicId);
      if (name !== undefined) result.observe(metrics.storageBytes, log.sizeBytes, { [attr.destination]: name, [attr.partition]: String(log.partition) });
    }
    result.observe(metrics.unflushedBytes, store.unflushedBytes);
    result.observe(metrics.tailCacheBytes, store.stats().tailCache.bytes);
    const buffers = streams.stats();
    result.observe(metrics.subscribeQueuedMessages, buffers.queuedMessages);
    result.observe(metrics.subscribeQueuedBytes, buffers.queuedBytes);
  });
}
