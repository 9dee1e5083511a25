/**
 * The leadership check of every path that serves a partition's log
 * (publish, ReadRecords): only the partition's leader may answer, and a
 * partition whose leader is down is served by nobody until it returns.
 */
import { NotLeaderError, PartitionUnavailableError } from '@braid/core';
import { PartitionStatus } from '@braid/proto';
import type { PartitionInfo } from '@braid/proto';
import type { MetadataCache, TopicView } from './metadata-cache.js';

/**
 * Returns the partition's metadata when `brokerId` leads it. Throws
 * `PartitionUnavailableError` (UNAVAILABLE) when no placement is known or
 * the leader is down, and `NotLeaderError` (FAILED_PRECONDITION) with the
 * leader's address when another broker (or a newer process under this
 * broker's id) leads it, so clients can follow.
 */
export function assertLeads(cache: MetadataCache, brokerId: string, topic: TopicView, partition: number): PartitionInfo {
  const { leads, info } = cache.leadership(topic, partition, brokerId);
  if (!info || info.status === PartitionStatus.PARTITION_STATUS_UNAVAILABLE) throw new PartitionUnavailableError(topic.name, partition);
  if (leads) return info;
  // Named leader but not leading: before registering, while fenced, or
  // superseded by a newer process under this id (the metadata shows a
  // higher epoch than ours). Only the last one can name where to go.
  const own = cache.leaderEpoch;
  if (info.leaderId === brokerId && (own === undefined || info.leaderEpoch <= own)) throw new PartitionUnavailableError(topic.name, partition);
  throw new NotLeaderError(topic.name, partition, cache.addressOf(info.leaderId) ?? info.leaderAddress);
}
