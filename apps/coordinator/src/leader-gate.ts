/**
 * What a coordinator serves depends on whether it leads: the gRPC server
 * listens from the start (so a standby can point callers at the leader),
 * and every call of a gated service goes to the leader's handlers once
 * `lead` installed them, and until then is answered UNAVAILABLE
 * (`COORDINATOR_STANDBY`) naming the leader in the error detail and the
 * `braid-leader` trailer. grpc-js cannot swap a service's implementation
 * once the server runs, hence one dispatching implementation per service.
 */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { CoordinatorStandbyError, toGrpcStatus } from '@braid/core';

/** Any grpc-js handler, called with the arguments grpc-js passed in. */
type Handler = (call: unknown, callback?: unknown) => void;

/** Routes calls to the leader's handlers or the standby answer; see the file comment. */
export class LeaderGate {
  private readonly leading = new Map<ServiceDefinition, UntypedServiceImplementation>();

  /** @param leaderAddress the leader's address as currently known, for the standby answer. */
  constructor(private readonly leaderAddress: () => string | undefined) {}

  /** An implementation of `definition` that dispatches through this gate. */
  service(definition: ServiceDefinition): UntypedServiceImplementation {
    const implementation: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      const handler: Handler = (call, callback) => {
        const leader = this.leading.get(definition)?.[name] as Handler | undefined;
        if (leader !== undefined) {
          leader(call, callback);
          return;
        }
        const status = toGrpcStatus(new CoordinatorStandbyError(this.leaderAddress()));
        if (method.responseStream) (call as NodeJS.EventEmitter).emit('error', status);
        else (callback as (error: typeof status) => void)(status);
      };
      implementation[name] = handler as UntypedServiceImplementation[string];
    }
    return implementation;
  }

  /** From now on, calls of `definition` go to `implementation`. */
  lead(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.leading.set(definition, implementation);
  }
}
