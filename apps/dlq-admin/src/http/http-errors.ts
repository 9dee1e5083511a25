/**
 * Errors of the HTTP API: every thrown error becomes a `BraidError`
 * (`toBraidError`: anything unknown is INTERNAL, never a bare 500 without
 * a body), whose gRPC code picks the HTTP status from one table, the way
 * the gRPC server's interceptor picks the status. The body is
 * `ErrorResponse`; retriable conditions also get `Retry-After`.
 */
import { status as Status } from '@grpc/grpc-js';
import { BraidError, toBraidError } from '@braid/core';
import type { ErrorResponse } from './api-types.js';

/**
 * gRPC code -> HTTP status. Mostly Google's mapping (google/rpc/code.proto),
 * except FAILED_PRECONDITION: 412, so that "at the redrive limit, set
 * force" and "being redriven by another call" are told apart from bad
 * input (400).
 */
const httpStatusOfCode: Readonly<Partial<Record<Status, number>>> = {
  [Status.INVALID_ARGUMENT]: 400,
  [Status.OUT_OF_RANGE]: 400,
  [Status.UNAUTHENTICATED]: 401,
  [Status.PERMISSION_DENIED]: 403,
  [Status.NOT_FOUND]: 404,
  [Status.ALREADY_EXISTS]: 409,
  [Status.ABORTED]: 409,
  [Status.FAILED_PRECONDITION]: 412,
  [Status.RESOURCE_EXHAUSTED]: 429,
  [Status.CANCELLED]: 499,
  [Status.UNIMPLEMENTED]: 501,
  [Status.UNAVAILABLE]: 503,
  [Status.DEADLINE_EXCEEDED]: 504,
};

/** The HTTP status for a gRPC code (500 for INTERNAL, UNKNOWN, DATA_LOSS). */
export function httpStatusOf(code: Status): number {
  return httpStatusOfCode[code] ?? 500;
}

/** An error as the HTTP API answers it. */
export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: ErrorResponse;
  /** The error as a `BraidError`. */
  error: BraidError;
}

/** `error` (anything thrown) as status, headers and `ErrorResponse` body. */
export function toHttpError(error: unknown): HttpError {
  const braid = toBraidError(error);
  const status = httpStatusOf(braid.code);
  const headers: Record<string, string> = {};
  if (braid.retriable) headers['retry-after'] = String(Math.max(1, Math.ceil(braid.retryAfterMs / 1000)));
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="braid-dlq-admin"';
  const field = braid.metadata.field;
  return {
    status,
    headers,
    error: braid,
    body: {
      error: {
        code: Status[braid.code],
        reason: braid.reason,
        // INTERNAL keeps its cause in the log, not in the answer.
        message: braid.reason === 'INTERNAL' && !(error instanceof BraidError) ? 'internal error (see the dlq-admin log)' : braid.message,
        retriable: braid.retriable,
        retryAfterMs: braid.retryAfterMs,
        ...(field === undefined ? {} : { field }),
        metadata: { ...braid.metadata },
      },
    },
  };
}
