/**
 * Converts between `BraidError` and gRPC statuses. The detail travels in the
 * `braid-error-bin` trailer (a serialised `braid.v1.ErrorDetail`) and, for
 * clients that do not decode it, as plain `braid-reason`,
 * `braid-retry-after-ms` and `braid-leader` trailers.
 */
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { ServiceError, StatusObject } from '@grpc/grpc-js';
import { ErrorDetail } from '@braid/proto';
import type { StreamError } from '@braid/proto';
import { BraidError, isErrorReason, retriableCodes, toBraidError } from './errors.js';
import type { ErrorReason } from './errors.js';

/** Trailer keys carrying the error detail. */
export const errorTrailers = {
  detail: 'braid-error-bin',
  reason: 'braid-reason',
  retryAfterMs: 'braid-retry-after-ms',
  leader: 'braid-leader',
} as const;

/** The `ErrorDetail` message for an error. */
export function errorDetailOf(error: BraidError): ErrorDetail {
  return {
    reason: error.reason,
    retriable: error.retriable,
    retryAfterMs: error.retryAfterMs,
    leaderAddress: error.leaderAddress,
    metadata: { ...error.metadata },
  };
}

/** The status (code, message, trailers) a server sends for `error`. */
export function toGrpcStatus(error: unknown): StatusObject {
  const braid = toBraidError(error);
  const metadata = new Metadata();
  metadata.set(errorTrailers.detail, Buffer.from(ErrorDetail.encode(errorDetailOf(braid)).finish()));
  metadata.set(errorTrailers.reason, braid.reason);
  if (braid.retryAfterMs > 0) metadata.set(errorTrailers.retryAfterMs, String(braid.retryAfterMs));
  if (braid.leaderAddress) metadata.set(errorTrailers.leader, braid.leaderAddress);
  return { code: braid.code, details: braid.message, metadata };
}

/** A `StreamError` message (error reported on a stream that stays open). */
export function toStreamError(error: unknown): StreamError {
  const braid = toBraidError(error);
  return { code: braid.code, message: braid.message, detail: errorDetailOf(braid) };
}

const genericReason: Partial<Record<Status, ErrorReason>> = {
  [Status.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [Status.NOT_FOUND]: 'NOT_FOUND',
  [Status.ALREADY_EXISTS]: 'ALREADY_EXISTS',
  [Status.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [Status.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [Status.UNAVAILABLE]: 'UNAVAILABLE',
  [Status.DEADLINE_EXCEEDED]: 'DEADLINE_EXCEEDED',
  [Status.CANCELLED]: 'CANCELLED',
  [Status.UNIMPLEMENTED]: 'UNIMPLEMENTED',
  [Status.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [Status.PERMISSION_DENIED]: 'PERMISSION_DENIED',
};

/** A `BraidError` subclass-free instance for a status received from a peer. */
class RemoteError extends BraidError {
  override readonly code: Status;
  override readonly retriable: boolean;

  constructor(reason: ErrorReason, code: Status, retriable: boolean, message: string, detail: ErrorDetail | undefined, cause: unknown) {
    super(reason, message, {
      cause,
      retryAfterMs: detail?.retryAfterMs ?? 0,
      leaderAddress: detail?.leaderAddress ?? '',
      metadata: detail?.metadata ?? {},
    });
    this.name = 'BraidError';
    // The peer's code wins: a newer server may use a reason this client
    // does not know, and the code is what the caller's retry logic reads.
    this.code = code;
    this.retriable = retriable;
  }
}

function decodeDetail(metadata: Metadata | undefined): ErrorDetail | undefined {
  const raw = metadata?.get(errorTrailers.detail)[0];
  if (!(raw instanceof Buffer)) return undefined;
  try {
    return ErrorDetail.decode(raw);
  } catch {
    // A corrupt detail must not hide the status itself: fall back to the
    // code alone, as for a peer that sends no detail.
    return undefined;
  }
}

/**
 * Turns an error from a grpc-js call into a `BraidError` carrying the peer's
 * code, reason, retry hint and leader address.
 */
export function fromGrpcError(error: unknown): BraidError {
  if (error instanceof BraidError) return error;
  if (!isServiceError(error)) return toBraidError(error);
  const code = error.code;
  const detail = decodeDetail(error.metadata);
  const reason: ErrorReason =
    detail && isErrorReason(detail.reason) ? detail.reason : (genericReason[code] ?? 'INTERNAL');
  const retriable = detail ? detail.retriable : retriableCodes.has(code);
  return new RemoteError(reason, code, retriable, error.details || error.message, detail, error);
}

/** Rebuilds a `BraidError` from a `StreamError` message. */
export function fromStreamError(streamError: StreamError): BraidError {
  const detail = streamError.detail;
  const code = toStatus(streamError.code);
  const reason: ErrorReason =
    detail && isErrorReason(detail.reason) ? detail.reason : (genericReason[code] ?? 'INTERNAL');
  return new RemoteError(reason, code, detail?.retriable ?? retriableCodes.has(code), streamError.message, detail, undefined);
}

/** Whether `error` looks like a grpc-js `ServiceError`. */
export function isServiceError(error: unknown): error is ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<ServiceError>).code === 'number' &&
    'details' in error
  );
}

const statusByNumber = new Map<number, Status>(
  Object.values(Status)
    .filter((value): value is Status => typeof value === 'number')
    .map((value) => [value, value]),
);

/** A numeric code from the wire as a `Status` (UNKNOWN when out of range). */
function toStatus(code: number): Status {
  return statusByNumber.get(code) ?? Status.UNKNOWN;
}
