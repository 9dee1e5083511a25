/**
 * Braid's error model. Every failure a caller can act on is a `BraidError`
 * subclass named for its condition; `errorTable` maps each condition (the
 * machine-readable `reason`) to its gRPC status code and whether retrying
 * can help. Servers turn thrown errors into statuses in one interceptor
 * (`@braid/server`); clients turn statuses back into these classes
 * (`fromGrpcError` in `./grpc-status.ts`), so both sides speak the same
 * language. Modelled on kafkajs's `errors.js` + protocol error table and on
 * Temporal's notes on which gRPC codes are retriable.
 */
import { status as Status } from '@grpc/grpc-js';

/** How each condition maps onto gRPC. */
export const errorTable = {
  INVALID_ARGUMENT: { code: Status.INVALID_ARGUMENT, retriable: false },
  INVALID_NAME: { code: Status.INVALID_ARGUMENT, retriable: false },
  RECORD_TOO_LARGE: { code: Status.INVALID_ARGUMENT, retriable: false },
  PARTITION_OUT_OF_RANGE: { code: Status.INVALID_ARGUMENT, retriable: false },
  TOPIC_NOT_FOUND: { code: Status.NOT_FOUND, retriable: false },
  SUBSCRIPTION_NOT_FOUND: { code: Status.NOT_FOUND, retriable: false },
  NOT_FOUND: { code: Status.NOT_FOUND, retriable: false },
  ALREADY_EXISTS: { code: Status.ALREADY_EXISTS, retriable: false },
  FAILED_PRECONDITION: { code: Status.FAILED_PRECONDITION, retriable: false },
  // A leadership change is transient: refresh metadata and retry at the
  // address in the detail.
  NOT_LEADER: { code: Status.FAILED_PRECONDITION, retriable: true },
  STALE_EPOCH: { code: Status.FAILED_PRECONDITION, retriable: true },
  RESOURCE_EXHAUSTED: { code: Status.RESOURCE_EXHAUSTED, retriable: true },
  MEMORY_PRESSURE: { code: Status.RESOURCE_EXHAUSTED, retriable: true },
  UNAVAILABLE: { code: Status.UNAVAILABLE, retriable: true },
  PARTITION_UNAVAILABLE: { code: Status.UNAVAILABLE, retriable: true },
  SHUTTING_DOWN: { code: Status.UNAVAILABLE, retriable: true },
  // A coordinator standing by while another leads: ask the leader named in
  // the detail (or the next coordinator) instead.
  COORDINATOR_STANDBY: { code: Status.UNAVAILABLE, retriable: true },
  DEADLINE_EXCEEDED: { code: Status.DEADLINE_EXCEEDED, retriable: true },
  CANCELLED: { code: Status.CANCELLED, retriable: false },
  UNIMPLEMENTED: { code: Status.UNIMPLEMENTED, retriable: false },
  UNAUTHENTICATED: { code: Status.UNAUTHENTICATED, retriable: false },
  PERMISSION_DENIED: { code: Status.PERMISSION_DENIED, retriable: false },
  INTERNAL: { code: Status.INTERNAL, retriable: false },
} as const satisfies Record<string, { code: Status; retriable: boolean }>;

/** A machine-readable error condition (`ErrorDetail.reason`). */
export type ErrorReason = keyof typeof errorTable;

/** Whether `value` names a known condition. */
export function isErrorReason(value: string): value is ErrorReason {
  return Object.hasOwn(errorTable, value);
}

/**
 * Codes that are worth retrying when an error carries no Braid detail (for
 * example a connection failure produced by grpc-js itself). Mirrors
 * Temporal's grpc-retry: UNAVAILABLE and RESOURCE_EXHAUSTED are transient;
 * DEADLINE_EXCEEDED may have been applied, so only idempotent calls retry
 * it (callers decide); everything else is the caller's fault or a bug.
 */
export const retriableCodes: ReadonlySet<Status> = new Set([Status.UNAVAILABLE, Status.RESOURCE_EXHAUSTED]);

/** Options common to every Braid error. */
export interface BraidErrorOptions {
  /** The error that led to this one. */
  cause?: unknown;
  /** Suggested wait before retrying, in ms. */
  retryAfterMs?: number;
  /** The leader's address (host:port) for NOT_LEADER. */
  leaderAddress?: string;
  /** Further facts, e.g. `{ topic: 'orders', limit: '1048576' }`. */
  metadata?: Record<string, string>;
}

/** Base class of every Braid error: a condition, its gRPC code and detail. */
export class BraidError extends Error {
  /** gRPC status code of the condition. */
  readonly code: Status;
  /** Machine-readable condition. */
  readonly reason: ErrorReason;
  /** Whether retrying the same request later can succeed. */
  readonly retriable: boolean;
  /** Suggested wait before retrying, in ms (0 if none). */
  readonly retryAfterMs: number;
  /** The leader's address for NOT_LEADER, else empty. */
  readonly leaderAddress: string;
  /** Further facts about the failure. */
  readonly metadata: Readonly<Record<string, string>>;

  constructor(reason: ErrorReason, message: string, options: BraidErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = reason;
    this.code = errorTable[reason].code;
    this.retriable = errorTable[reason].retriable;
    this.retryAfterMs = options.retryAfterMs ?? 0;
    this.leaderAddress = options.leaderAddress ?? '';
    this.metadata = options.metadata ?? {};
  }
}

/** Bad input that fits no more specific condition. */
export class InvalidArgumentError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** A topic or subscription name breaks the naming rules. */
export class InvalidNameError extends BraidError {
  constructor(kind: string, name: string, why: string) {
    super('INVALID_NAME', `invalid ${kind} name ${JSON.stringify(name)}: ${why}`, { metadata: { kind, name } });
  }
}

/** A record is larger than the topic's `max_record_bytes`. */
export class RecordTooLargeError extends BraidError {
  constructor(topic: string, size: number, limit: number) {
    super('RECORD_TOO_LARGE', `record of ${size} bytes exceeds topic "${topic}" max_record_bytes ${limit}`, {
      metadata: { topic, size: String(size), limit: String(limit) },
    });
  }
}

/** A partition number outside [0, partitions). */
export class PartitionOutOfRangeError extends BraidError {
  constructor(topic: string, partition: number, partitions: number) {
    super(
      'PARTITION_OUT_OF_RANGE',
      `partition ${partition} out of range for topic "${topic}" with ${partitions} partitions (valid: 0-${partitions - 1})`,
      { metadata: { topic, partition: String(partition), partitions: String(partitions) } },
    );
  }
}

/** The topic does not exist. */
export class TopicNotFoundError extends BraidError {
  constructor(topic: string) {
    super('TOPIC_NOT_FOUND', `topic "${topic}" does not exist`, { metadata: { topic } });
  }
}

/** The subscription does not exist. */
export class SubscriptionNotFoundError extends BraidError {
  constructor(topic: string, subscription: string) {
    super('SUBSCRIPTION_NOT_FOUND', `subscription "${subscription}" on topic "${topic}" does not exist`, {
      metadata: { topic, subscription },
    });
  }
}

/** Some other named thing does not exist. */
export class NotFoundError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('NOT_FOUND', message, options);
  }
}

/** The thing to create exists already. */
export class AlreadyExistsError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('ALREADY_EXISTS', message, options);
  }
}

/** The request is valid but the system is not in a state to run it. */
export class FailedPreconditionError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('FAILED_PRECONDITION', message, options);
  }
}

/** This broker does not lead the partition; the leader is elsewhere. */
export class NotLeaderError extends BraidError {
  constructor(topic: string, partition: number, leaderAddress: string) {
    super('NOT_LEADER', `this broker does not lead ${topic}/${partition}; leader is ${leaderAddress || 'unknown'}`, {
      leaderAddress,
      metadata: { topic, partition: String(partition) },
    });
  }
}

/** A request carried a leader epoch other than the partition's. */
export class StaleEpochError extends BraidError {
  constructor(topic: string, partition: number, sent: number, current: number) {
    const message =
      sent > current
        ? `leader epoch ${sent} for ${topic}/${partition} is newer than this broker's (${current}): another process registered as its leader since; refresh metadata`
        : `leader epoch ${sent} for ${topic}/${partition} is stale (current ${current}); refresh metadata`;
    super('STALE_EPOCH', message, {
      metadata: { topic, partition: String(partition), sent: String(sent), current: String(current) },
    });
  }
}

/** A quota or limit was hit; retry after the hinted delay. */
export class ResourceExhaustedError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}

/** The broker holds more unflushed bytes than its memory watermark. */
export class MemoryPressureError extends BraidError {
  constructor(heldBytes: number, watermarkBytes: number, retryAfterMs: number) {
    super(
      'MEMORY_PRESSURE',
      `broker is over its memory watermark (${heldBytes} of ${watermarkBytes} bytes unflushed); retry after ${retryAfterMs} ms`,
      { retryAfterMs, metadata: { held: String(heldBytes), watermark: String(watermarkBytes) } },
    );
  }
}

/** A dependency or peer cannot be reached right now. */
export class UnavailableError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('UNAVAILABLE', message, options);
  }
}

/** The partition's leader is down; nothing is served until it returns. */
export class PartitionUnavailableError extends BraidError {
  constructor(topic: string, partition: number) {
    super('PARTITION_UNAVAILABLE', `partition ${topic}/${partition} is unavailable (its leader is down)`, {
      metadata: { topic, partition: String(partition) },
    });
  }
}

/** The process is shutting down and accepts no new work. */
export class ShuttingDownError extends BraidError {
  constructor(what = 'server') {
    super('SHUTTING_DOWN', `${what} is shutting down`);
  }
}

/**
 * This coordinator stands by while another one leads (elected through
 * etcd); `leaderAddress` names the leader when it is known.
 */
export class CoordinatorStandbyError extends BraidError {
  constructor(leaderAddress: string | undefined) {
    super(
      'COORDINATOR_STANDBY',
      `this coordinator is a standby; ${leaderAddress ? `the leader is ${leaderAddress}` : 'no leader is known right now'}: send the call there (or to another coordinator)`,
      leaderAddress ? { leaderAddress } : {},
    );
  }
}

/** The operation is not implemented (yet). */
export class UnimplementedError extends BraidError {
  constructor(message: string) {
    super('UNIMPLEMENTED', message);
  }
}

/** A call that needs credentials came without them, or with wrong ones. */
export class UnauthenticatedError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** A bug or an unexpected failure; the message is safe to show. */
export class InternalError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('INTERNAL', message, options);
  }
}

/** The caller gave up (deadline passed). */
export class DeadlineExceededError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('DEADLINE_EXCEEDED', message, options);
  }
}

/** The caller cancelled the request. */
export class CancelledError extends BraidError {
  constructor(message: string, options?: BraidErrorOptions) {
    super('CANCELLED', message, options);
  }
}

/**
 * Wraps anything thrown into a `BraidError`: Braid errors pass through,
 * anything else becomes INTERNAL with the original as `cause`, so nothing
 * reaches a caller as UNKNOWN.
 */
export function toBraidError(error: unknown): BraidError {
  if (error instanceof BraidError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new InternalError(`internal error: ${message}`, { cause: error });
}
