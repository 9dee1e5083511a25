/** CoordinatorService handlers: broker registration, heartbeats, metadata watches. */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { CoordinatorServiceService } from '@braid/proto';
import type { CoordinatorServiceServer } from '@braid/proto';
import { serverStream, unary, unimplementedService } from '@braid/server';
import type { BrokerRegistry } from './broker-registry.js';
import type { MetadataChanges } from './metadata-changes.js';
import type { MetadataService } from './metadata-service.js';

/** What the handlers need. */
export interface CoordinatorServiceDeps {
  brokers: BrokerRegistry;
  changes: MetadataChanges;
  metadata: MetadataService;
}

/** The CoordinatorService implementation. */
export function coordinatorService({ brokers, changes, metadata }: CoordinatorServiceDeps): UntypedServiceImplementation {
  const handlers: CoordinatorServiceServer = {
    registerBroker: unary((request) => brokers.register(request.brokerId, request.address)),
    heartbeat: unary((request) => {
      const lease = brokers.heartbeat(request.brokerId, request.leaseId);
      return Promise.resolve({ leaseTtlMs: lease.leaseTtlMs, metadataVersion: changes.version });
    }),
    deregisterBroker: unary(async (request) => {
      await brokers.deregister(request.brokerId, request.leaseId);
      return {};
    }),
    watchMetadata: serverStream((call) => metadata.watch(call)),
  };
  // Every RPC is implemented; the wrapper only keeps the shape uniform with
  // AdminService and covers RPCs a newer contract may add.
  return unimplementedService(CoordinatorServiceService, handlers);
}
