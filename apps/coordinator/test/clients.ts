/**
 * Helpers for the coordinator's integration tests: generated grpc-js
 * clients for a running coordinator, unary calls as promises rejecting with
 * `BraidError`, a fake broker, a metadata watch, and polling without
 * fixed sleeps.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import type { CallOptions, ClientReadableStream, ClientUnaryCall, ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import { AdminServiceClient, CoordinatorServiceClient } from '@braid/proto';
import type { GetMetadataResponse, WatchMetadataResponse } from '@braid/proto';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** Calls a unary method; rejects with the status as a `BraidError`. */
export function rpc<Req, Res>(method: UnaryMethod<Req, Res>, request: Req, timeoutMs = 5000): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    method(request, new Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response);
    });
  });
}

/** The error a call failed with; fails the test if it succeeded. */
export { failure as rpcError } from '@braid/testkit';

/** Both services of a coordinator. */
export interface CoordinatorClients {
  admin: AdminServiceClient;
  coordinator: CoordinatorServiceClient;
  close(): void;
}

/** Clients for the coordinator at `address`. */
export function connect(address: string): CoordinatorClients {
  const admin = new AdminServiceClient(address, credentials.createInsecure());
  const coordinator = new CoordinatorServiceClient(address, credentials.createInsecure());
  return {
    admin,
    coordinator,
    close: () => {
      admin.close();
      coordinator.close();
    },
  };
}

/** Registers a fake broker (nothing listens at its address); returns its lease id. */
export async function registerBroker(clients: CoordinatorClients, brokerId: string, address: string): Promise<string> {
  const response = await rpc(clients.coordinator.registerBroker.bind(clients.coordinator), { brokerId, address });
  return response.leaseId;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A WatchMetadata call that collects what it receives; `call.cancel()` ends it. */
export class MetadataWatch {
  readonly received: GetMetadataResponse[] = [];
  readonly call: ClientReadableStream<WatchMetadataResponse>;

  constructor(clients: CoordinatorClients, brokerId: string) {
    this.call = clients.coordinator.watchMetadata({ brokerId });
    this.call.on('data', (message: WatchMetadataResponse) => {
      if (message.metadata) this.received.push(message.metadata);
    });
    // Cancelling ends the call with CANCELLED; nothing to report.
    this.call.on('error', () => undefined);
  }

  /** The first message received that satisfies `test`. */
  find(test: (m: GetMetadataResponse) => boolean, what: string): Promise<GetMetadataResponse> {
    return eventually(() => Promise.resolve(this.received.find(test)), what);
  }
}
