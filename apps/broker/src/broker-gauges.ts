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
 */
import type { LogStore } from '@braid/storage';
import { attr } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';
import type { DispatcherRegistry } from './consume/dispatcher-registry.js';
import type { StreamBuffers } from './consume/stream-buffers.js';
import type { MetadataCache } from './metadata-cache.js';

/** Where the gauges read from. */
export interface BrokerGaugeSources {
  metrics: BrokerMetrics;
  dispatchers: DispatcherRegistry;
  store: LogStore;
  cache: MetadataCache;
  streams: StreamBuffers;
}

/** Starts reporting the gauges (see the file comment); returns how to stop. */
export function observeBrokerGauges(sources: BrokerGaugeSources): () => void {
  const { metrics, dispatchers, store, cache, streams } = sources;
  return metrics.observe((result) => {
    for (const dispatcher of dispatchers.ready()) {
      const subscription = dispatcher.metrics;
      for (const progress of dispatcher.progress()) {
        const attributes = subscription.attributes(progress.partition);
        result.observe(metrics.consumerLag, Math.max(0, progress.highWatermark - progress.committedOffset), attributes);
        result.observe(metrics.unsettled, progress.unacked, attributes);
        result.observe(metrics.pendingRetries, progress.pendingRetries, attributes);
      }
      result.observe(metrics.creditRecords, dispatcher.creditRecords(), subscription.subscriptionAttributes);
      result.observe(metrics.members, dispatcher.memberIds().length, subscription.subscriptionAttributes);
    }
    // Partitions of topics no longer in the metadata are being dropped: not reported.
    const topicNames = new Map<number, string>();
    for (const topic of cache.allTopics()) topicNames.set(topic.id, topic.name);
    for (const log of store.logs()) {
      const name = topicNames.get(log.topicId);
      if (name !== undefined) result.observe(metrics.storageBytes, log.sizeBytes, { [attr.destination]: name, [attr.partition]: String(log.partition) });
    }
    result.observe(metrics.unflushedBytes, store.unflushedBytes);
    const buffers = streams.stats();
    result.observe(metrics.subscribeQueuedMessages, buffers.queuedMessages);
    result.observe(metrics.subscribeQueuedBytes, buffers.queuedBytes);
  });
}
