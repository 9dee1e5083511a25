/** The coordinator's state as contract messages (`Topic`, `BrokerInfo`, `PartitionInfo`, `Subscription`). */
import { CircuitState, PartitionStatus } from '@braid/proto';
import type { BrokerInfo, DescribeSubscriptionResponse, PartitionInfo, Subscription, Topic } from '@braid/proto';
import type { BrokerState } from './broker-registry.js';
import type { SubscriptionState } from './subscription-registry.js';
import { subscriptionConfigMessage } from './subscription-settings.js';
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
    leaderEpoch: broker.term,
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
      // The placement's epoch, raised to the leader's term: every
      // registration of the leader starts a new epoch (broker-registry.ts).
      leaderEpoch: Math.max(assignment.leaderEpoch, leader?.term ?? 0),
      status: leader?.live === true ? PartitionStatus.PARTITION_STATUS_AVAILABLE : PartitionStatus.PARTITION_STATUS_UNAVAILABLE,
      highWatermark: 0,
      logStartOffset: 0,
      sizeBytes: 0,
    };
  });
}

/** `subscription` as a `Subscription` message (settings with defaults filled in). */
export function subscriptionMessage(subscription: SubscriptionState): Subscription {
  return {
    topic: subscription.topic,
    name: subscription.name,
    config: subscriptionConfigMessage(subscription.settings),
    createdAtMs: subscription.createdAtMs,
  };
}

/**
 * `DescribeSubscription` as the coordinator can answer it: the settings.
 * Progress per partition, members and the live breaker state are kept by
 * the brokers leading the partitions, so `partitions` and `members` are
 * empty here and the circuit state is CLOSED when a breaker is enabled
 * (UNSPECIFIED when none is).
 */
export function subscriptionDescription(subscription: SubscriptionState): DescribeSubscriptionResponse {
  return {
    subscription: subscriptionMessage(subscription),
    partitions: [],
    members: [],
    circuitState: subscription.settings.circuitBreaker.enabled ? CircuitState.CIRCUIT_STATE_CLOSED : CircuitState.CIRCUIT_STATE_UNSPECIFIED,
  };
}
