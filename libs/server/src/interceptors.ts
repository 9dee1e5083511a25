/**
 * The one server interceptor chain every Braid server gets. Cross-cutting
 * concerns (call logging and metrics today; tracing, authentication and
 * authorization later) are added here once, not per handler.
 */
import { ResponderBuilder, ServerInterceptingCall, status as Status } from '@grpc/grpc-js';
import type { ServerInterceptor } from '@grpc/grpc-js';
import type { Logger } from '@braid/core';

/** Counts of finished calls by method and code, for tests and metrics. */
export interface CallStats {
  record(method: string, code: Status, durationMs: number): void;
}

/**
 * Logs every finished call: failures that are the server's fault (INTERNAL,
 * UNKNOWN, DATA_LOSS) at error level, other failures at debug (they are the
 * caller's business and can be frequent), successes at debug.
 */
export function callLoggingInterceptor(logger: Logger, stats?: CallStats): ServerInterceptor {
  return (methodDescriptor, call) => {
    const started = performance.now();
    const responder = new ResponderBuilder()
      .withSendStatus((statusObject, next) => {
        const durationMs = performance.now() - started;
        stats?.record(methodDescriptor.path, statusObject.code, durationMs);
        const fields = {
          method: methodDescriptor.path,
          code: Status[statusObject.code],
          durationMs: Math.round(durationMs * 1000) / 1000,
        };
        if (statusObject.code === Status.INTERNAL || statusObject.code === Status.UNKNOWN || statusObject.code === Status.DATA_LOSS) {
          logger.error({ ...fields, details: statusObject.details }, 'call failed');
        } else {
          logger.debug(statusObject.code === Status.OK ? fields : { ...fields, details: statusObject.details }, 'call finished');
        }
        next(statusObject);
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  };
}
