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
  /** How long a batch waits for more records before it is sent, in ms. */
  lingerMs: 5,
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
