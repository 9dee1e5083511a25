/**
 * Every default of the SDK, in one place. Options are merged with `??`, so
 * an explicit `0` means zero (`lingerMs: 0` sends without waiting) instead of
 * silently becoming the default.
 */
import type { BackoffPolicy } from '@braid/backoff';

const MiB = 1024 * 1024;

/** Defaults of the gRPC channels the SDK opens (one per broker address). */
export const channelDefaults = {
  /**
   * HTTP/2 flow-control window (stream and connection), in bytes. Node's
   * 64 KiB default holds about two 100-record batches; raising it gave
   * +20-60% on streaming here (TOOLCHAIN.md).
   */
  flowControlWindowBytes: 16 * MiB,
  /**
   * Largest message sent or received, in bytes. grpc-js refuses anything
   * over 4 MiB by default; Braid servers accept 64 MiB.
   */
  maxMessageBytes: 64 * MiB,
} as const;

/** Defaults of {@link DlqAdminOptions}. */
export const dlqAdminClientDefaults = {
  /** dlq-admin's gRPC address. */
  address: 'localhost:7402',
  /** Deadline of each unary call, in ms. */
  timeoutMs: 10_000,
} as const;

/** Defaults of {@link AdminOptions}. */
export const adminDefaults = {
  /** Deadline of each admin call, in ms. */
  timeoutMs: 10_000,
} as const;

/**
 * Retry policy of the producer (the `@braid/backoff` policy tuned for RPC):
 * 100 ms doubling to at most 5 s with full jitter, no attempt limit — the
 * `deliveryTimeoutMs` budget decides when to give up.
 */
export const producerRetryDefaults: Required<Omit<BackoffPolicy, 'deadlineMs'>> = {
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 5_000,
  jitter: 'full',
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Defaults of {@link ProducerOptions}. */
export const producerDefaults = {
  /**
   * How long a batch waits for more records before it is sent, in ms. 0:
   * at the end of the current tick. Batches still form under load, because
   * the records that arrive while a partition's pipeline is full
   * (`maxInFlightRequestsPerPartition`) wait and go together: measured, 0
   * publishes as fast as 5 and takes ~4 ms off publish-to-handler latency
   * at 5,000 records/s (`npm run bench -- publish|throughput|latency`).
   */
  lingerMs: 0,
  /** Most records in one batch (one `PublishRequest`). */
  maxBatchRecords: 1_000,
  /** Most record bytes (key + value + headers) in one batch; a larger single record travels alone. */
  maxBatchBytes: 1 * MiB,
  /** Record bytes buffered or in flight before `send()` waits for room. */
  maxInFlightBytes: 64 * MiB,
  /** Batches of one partition sent and not yet answered. */
  maxInFlightRequestsPerPartition: 5,
  /** Producer id + per-partition sequence numbers, so retries never duplicate. */
  idempotent: true,
  /** Time from a batch's first record until the producer gives up on it, in ms (Kafka's `delivery.timeout.ms`). */
  deliveryTimeoutMs: 120_000,
  /** A batch not answered within this long counts as failed (retriable), in ms. */
  requestTimeoutMs: 30_000,
  /** Topic metadata older than this is refreshed in the background, in ms. */
  metadataMaxAgeMs: 300_000,
} as const;

/**
 * Reconnect policy of the consumer: 100 ms doubling to at most 5 s with
 * full jitter, no attempt limit — a consumer waits for a restarting broker
 * until it is closed (pass `reconnect.maxAttempts` or `deadlineMs` to give
 * up instead).
 */
export const consumerReconnectDefaults: Required<Omit<BackoffPolicy, 'deadlineMs'>> = {
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 5_000,
  jitter: 'full',
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Defaults of {@link ConsumerOptions}. */
export const consumerDefaults = {
  /**
   * Records delivered and not yet settled that the consumer lets the
   * brokers send it (its credit), split evenly over the brokers it streams
   * from. The iterator's queue never holds more.
   */
  prefetchRecords: 1_000,
  /** Bytes (key + value) likewise (64 MiB). */
  prefetchBytes: 64 * MiB,
  /** Acknowledgements gathered before they are sent as one `ack` request. */
  ackBatchSize: 100,
  /** Longest an acknowledgement waits for others before it is sent, in ms. */
  ackFlushMs: 20,
  /**
   * Longest the consumer keeps extending the lease of a record it holds,
   * counted from its delivery, in ms (30 min, nodejs-pubsub's
   * `maxExtensionMinutes`). `0` turns automatic extension off.
   */
  maxLeaseExtensionMs: 30 * 60_000,
  /**
   * Fraction of a lease after which it is extended: at 2/3 of the remaining
   * time, so an extension has a third of the lease to reach the broker.
   */
  leaseExtensionAt: 2 / 3,
  /**
   * Longest a credit top-up waits to be sent with others, in ms (it goes at
   * once when half the prefetch is free, the application holds nothing, or
   * the application waits for records).
   */
  creditLingerMs: 20,
  /** Handlers `run()` runs at once. */
  concurrency: 1,
  /** How long `close()` waits for records in the application's hands to be settled, in ms. */
  closeTimeoutMs: 30_000,
  /** Lease of a delivery when the broker does not say (the subscription default), in ms. */
  leaseMs: 30_000,
} as const;
