/**
 * A service implementation whose every RPC answers UNIMPLEMENTED with a
 * message naming the RPC: what a walking skeleton serves until the real
 * handler lands, and what a partial implementation falls back to.
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { UnimplementedError, toGrpcStatus } from '@braid/core';

/** Every method of `definition` answering UNIMPLEMENTED. */
export function unimplementedService(
  definition: ServiceDefinition,
  overrides: UntypedServiceImplementation = {},
): UntypedServiceImplementation {
  const implementation: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const status = (): ReturnType<typeof toGrpcStatus> =>
      toGrpcStatus(new UnimplementedError(`${method.path} is not implemented yet`));
    if (!method.responseStream) {
      // Unary and client-streaming calls answer through their callback.
      implementation[name] = (_call: unknown, callback: (error: ReturnType<typeof toGrpcStatus>) => void) => {
        callback(status());
      };
    } else {
      implementation[name] = (call: NodeJS.EventEmitter) => {
        call.emit('error', status());
      };
    }
  }
  return { ...implementation, ...overrides };
}
