/** Defaults and limits of the coordinator, in one place. */
import { Durability, Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';

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

/**
 * Subscription settings a `SubscriptionConfig` gets when it leaves a field
 * at zero. They match the defaults written in `proto/braid/v1/common.proto`,
 * which is what clients in other languages read.
 */
export const subscriptionDefaults = {
  /** How members share the records. */
  mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  /** Where a new subscription starts reading. */
  startPosition: StartPosition.START_POSITION_LATEST,
  /** Lease of a delivery before it counts as a failed attempt (ms). */
  ackTimeoutMs: 30_000,
  /** Most unsettled records one member may hold. */
  maxUnackedPerMember: 1000,
  retryPolicy: {
    /** Attempts before dead-lettering, counting the first delivery. */
    maxAttempts: 5,
    /** Delay before the first retry (ms). */
    initialBackoffMs: 1000,
    /** Growth factor between consecutive delays. */
    multiplier: 2,
    /** Cap on a single delay (ms). */
    maxBackoffMs: 60_000,
    /** Full jitter spreads retries of many records best (AWS's measurements). */
    jitter: Jitter.JITTER_FULL,
  },
  /**
   * Whether later records of a key wait for one that waits for a retry:
   * yes in the ordered modes (so "create" is never overtaken by "delete"),
   * no in SHARED, which promises no order anyway.
   */
  retryOrder: (mode: SubscriptionMode): RetryOrder.RETRY_ORDER_BLOCK_KEY | RetryOrder.RETRY_ORDER_SKIP =>
    mode === SubscriptionMode.SUBSCRIPTION_MODE_SHARED ? RetryOrder.RETRY_ORDER_SKIP : RetryOrder.RETRY_ORDER_BLOCK_KEY,
  /** Dead-letter topic of subscription `name` on `topic`. */
  deadLetterTopic: (topic: string, name: string): string => `${topic}.${name}.dlq`,
  rateLimit: {
    /** Deliveries per second across all members; 0 is unlimited. */
    recordsPerSecond: 0,
    /**
     * Largest burst: one second's worth, rounded up so a rate below 1/s
     * still hands out whole records (0 while unlimited).
     */
    burst: (recordsPerSecond: number): number => Math.ceil(recordsPerSecond),
  },
  circuitBreaker: {
    /** The breaker is off unless asked for. */
    enabled: false,
    /** Failure ratio over the window that opens the breaker. */
    failureRatio: 0.5,
    /** Sliding window over which the ratio is measured (ms). */
    windowMs: 10_000,
    /** Fewest settlements in the window before the ratio counts. */
    minSettlements: 20,
    /** Pause after opening before probing (ms). */
    cooldownMs: 30_000,
    /** Records let through while half-open. */
    probeRecords: 5,
  },
} as const;

/** Bounds of subscription settings. */
export const subscriptionLimits = {
  /**
   * Shortest ack timeout (ms): below this a lease would lapse on an
   * ordinary network round trip plus a GC pause, and every record would
   * be retried.
   */
  minAckTimeoutMs: 100,
  /** Longest ack timeout (ms), 12 h: a lost member's records come back within half a day. */
  maxAckTimeoutMs: 12 * 60 * 60 * 1000,
  /** Most unsettled records per member (bounds the broker's per-member state). */
  maxUnackedPerMember: 100_000,
  /** Most delivery attempts of one record. */
  maxAttempts: 1000,
  /**
   * Highest rate limit (records/s): far above what one subscription can
   * reach, and low enough that the default burst, `ceil(rate)`, fits
   * `RateLimit.burst` (an int32).
   */
  maxRecordsPerSecond: 1_000_000_000,
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

/** The etcd metadata store (`--etcd-endpoints`). */
export const etcdStoreDefaults = {
  /**
   * Namespace of every key the coordinator writes (`--etcd-prefix`), so
   * Braid shares an etcd cluster with other users, or with another Braid
   * cluster under another prefix.
   */
  prefix: '/braid/',
  /**
   * How long opening the store keeps trying to reach etcd before failing
   * with UNAVAILABLE (`--etcd-dial-timeout-ms`); 5 s like etcd's own clients.
   */
  dialTimeoutMs: 5000,
  /**
   * Deadline of one etcd request. A write that hits it may or may not have
   * been applied (DEADLINE_EXCEEDED), so it is generous: etcd answers a
   * healthy write in milliseconds, and a leader election takes about a
   * second.
   */
  requestTimeoutMs: 10_000,
  /**
   * Keys fetched per range request by `list`: pages keep each etcd
   * response (and etcd's work per request) bounded however large the
   * metadata grows.
   */
  listPageSize: 500,
} as const;

/** Leader election among coordinators on etcd (`coordinator-election.ts`). */
export const electionDefaults = {
  /** Name of the election: its keys are `<etcd prefix>election/coordinator/<lease id>`. */
  name: 'coordinator',
  /**
   * TTL of the etcd lease a candidate holds (s; `--etcd-lease-ttl-s`). A
   * killed leader is replaced about this long after it died (plus loading
   * the metadata), and a leader cut off from etcd gives up after it. 5 s
   * keeps a takeover well within 10 s while riding out an etcd leader
   * election (~1 s) or a GC pause; the client renews every third of it.
   */
  leaseTtlSeconds: 5,
  /** Pause before observing the leader again after the observer failed (ms). */
  observeRetryMs: 1000,
} as const;
