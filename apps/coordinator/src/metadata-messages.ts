/** The coordinator's state as contract messages (`Topic`, `BrokerInfo`, `PartitionInfo`). */
import { PartitionStatus } from '@braid/proto';
import type { BrokerInfo, PartitionInfo, Topic } from '@braid/proto';
import type { BrokerState } from './broker-registry.js';
import type { TopicState } from './topic-registry.js';
import { topicConfigMessage } from './topic-settings.js';

/** `topic` as a `Topic` message (settings with defaults filled in). */
export function topicMessage(topic: TopicState): Topic {
  return { name: topic.name, id: topic.id, config: topicConfigMessage(topic.settings), createdAtMs: topic.createdAtMs };
}

/** `broker` as a `BrokerInfo` message. */
export function brokerInfo(broker: BrokerState): BrokerInfo {
  return {
    brokerId: broker.brokerId,
    address: broker.address,
    live: broker.live,
    leaseExpiresAtMs: broker.leaseExpiresAtMs,
    registeredAtMs: broker.registeredAtMs,
  };
}

/**
 * The partitions of `topic` with their leaders' addresses and status: a
 * partition is AVAILABLE while its leader is live, UNAVAILABLE otherwise.
 * Offsets and sizes are left at 0: only the leader knows them.
 */
export function partitionInfos(topic: TopicState, brokers: ReadonlyMap<string, BrokerState>): PartitionInfo[] {
  return topic.partitions.map((assignment, partition) => {
    const leader = brokers.get(assignment.leaderId);
    return {
      partition,
      leaderId: assignment.leaderId,
      leaderAddress: leader?.address ?? '',
      leaderEpoch: assignment.leaderEpoch,
      status: leader?.live === true ? PartitionStatus.PARTITION_STATUS_AVAILABLE : PartitionStatus.PARTITION_STATUS_UNAVAILABLE,
      highWatermark: 0,
      logStartOffset: 0,
      sizeBytes: 0,
    };
  });
}
