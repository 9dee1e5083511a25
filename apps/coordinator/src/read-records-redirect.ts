/**
 * `AdminService.ReadRecords` on the coordinator. Partition logs live on the
 * brokers, so the coordinator reads nothing: it checks the request as far
 * as metadata allows (INVALID_ARGUMENT for a bad name or a partition out of
 * range, NOT_FOUND for an unknown topic, the answers a broker would give)
 * and then redirects to the partition's leader with the same
 * FAILED_PRECONDITION / NOT_LEADER (and the leader's address) that a broker
 * not leading the partition answers, so a client that follows leader
 * redirects (`Admin.readRecords`) needs no special case. Limits and offsets
 * are checked by the broker that serves the read.
 */
import { BraidError, PartitionOutOfRangeError, PartitionUnavailableError } from '@braid/core';
import { PartitionStatus } from '@braid/proto';
import type { ReadRecordsRequest } from '@braid/proto';
import type { MetadataService } from './metadata-service.js';

/** The error that answers `request`: always thrown, never a response. */
export function readRecordsRedirect(metadata: MetadataService, request: ReadRecordsRequest): BraidError {
  const { topic, partitions } = metadata.describeTopic(request.topic);
  const name = topic?.name ?? request.topic;
  const count = topic?.config?.partitions ?? partitions.length;
  const { partition } = request;
  if (!Number.isInteger(partition) || partition < 0 || partition >= count) return new PartitionOutOfRangeError(name, partition, count);
  const info = partitions.find((p) => p.partition === partition);
  if (!info?.leaderAddress || info.status === PartitionStatus.PARTITION_STATUS_UNAVAILABLE) return new PartitionUnavailableError(name, partition);
  return new BraidError(
    'NOT_LEADER',
    `ReadRecords is served by brokers: the coordinator holds no partition logs; ask the leader of ${name}/${partition} at ${info.leaderAddress}`,
    { leaderAddress: info.leaderAddress, metadata: { topic: name, partition: String(partition) } },
  );
}
