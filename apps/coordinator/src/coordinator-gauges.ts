/**
 * The coordinator's gauges, read from its registries at collection time (a
 * scrape) only: whether it leads, brokers live and down, partitions
 * available and unavailable (their leader's lease lapsed: what an operator
 * alerts on), topics, subscriptions and the metadata version. A standby
 * reports only `braid.coordinator.leader` = 0.
 */
import { coordinatorMetrics } from '@braid/telemetry';
import type { CoordinatorMetrics } from '@braid/telemetry';
import type { BrokerRegistry } from './broker-registry.js';
import type { MetadataChanges } from './metadata-changes.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { TopicRegistry } from './topic-registry.js';

/** What a leading coordinator's gauges read. */
export interface CoordinatorGaugeSources {
  brokers: BrokerRegistry;
  topics: TopicRegistry;
  subscriptions: SubscriptionRegistry;
  changes: MetadataChanges;
}

const brokerState = 'braid.broker.state';
const partitionState = 'braid.partition.state';

/**
 * Starts reporting the gauges; `leading()` gives the registries while this
 * coordinator leads, undefined on standby. Returns how to stop.
 */
export function observeCoordinatorGauges(leading: () => CoordinatorGaugeSources | undefined, metrics: CoordinatorMetrics = coordinatorMetrics()): () => void {
  return metrics.observe((result) => {
    const parts = leading();
    result.observe(metrics.leader, parts ? 1 : 0);
    if (!parts) return;
    const live = new Set<string>();
    let down = 0;
    for (const broker of parts.brokers.list()) {
      if (broker.live) live.add(broker.brokerId);
      else down++;
    }
    result.observe(metrics.brokers, live.size, { [brokerState]: 'live' });
    result.observe(metrics.brokers, down, { [brokerState]: 'down' });
    let available = 0;
    let unavailable = 0;
    const topics = parts.topics.list();
    for (const topic of topics) {
      for (const assignment of topic.partitions) {
        if (live.has(assignment.leaderId)) available++;
        else unavailable++;
      }
    }
    result.observe(metrics.partitions, available, { [partitionState]: 'available' });
    result.observe(metrics.partitions, unavailable, { [partitionState]: 'unavailable' });
    result.observe(metrics.topics, topics.length);
    result.observe(metrics.subscriptions, parts.subscriptions.list().length);
    result.observe(metrics.metadataVersion, parts.changes.version);
  });
}
