/** Defaults and limits of the coordinator, in one place. */
import { Durability } from '@braid/proto';

/** Topic settings a `CreateTopicRequest` gets when it leaves a field at zero. */
export const topicDefaults = {
  /** Partitions of a topic. */
  partitions: 1,
  /** When a publish is acknowledged. */
  durability: Durability.DURABILITY_FSYNC,
  /** Largest accepted record (key + value + headers), 1 MiB. */
  maxRecordBytes: 1_048_576,
  /** Age-based retention: 0 keeps records forever. */
  retentionMs: 0,
  /** Size-based retention per partition: 0 means no limit. */
  retentionBytes: 0,
} as const;

/** Bounds of topic settings. */
export const topicLimits = {
  /** Most partitions of one topic. */
  maxPartitions: 4096,
  /**
   * Largest `max_record_bytes`, 32 MiB: half of the servers' 64 MiB message
   * limit, so one record of the largest allowed size always fits in a
   * publish request together with its framing and headers.
   */
  maxRecordBytes: 32 * 1024 * 1024,
} as const;

/** Broker leases and placement. */
export const clusterDefaults = {
  /** Lease length of a registered broker (ms); `--broker-lease-ms`. */
  brokerLeaseMs: 10_000,
  /** Epoch of a partition's first leader. */
  firstLeaderEpoch: 1,
} as const;

/**
 * How often expired leases are looked for: a tenth of the lease, between
 * 10 ms and 1 s, so a dead broker is reported within 10% (at most 1 s) of
 * its deadline without a busy timer.
 */
export function leaseCheckIntervalMs(leaseMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(leaseMs / 10)));
}
