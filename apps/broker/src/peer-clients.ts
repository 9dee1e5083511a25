/**
 * gRPC clients of the other brokers, one per service and address, shared
 * by everything that calls a peer (admin calls across leaders, forwarded
 * publishes), and closed together when the broker stops.
 */
import { credentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import { AdminServiceClient, ProducerServiceClient } from '@braid/proto';

const channelOptions = { 'grpc.max_send_message_length': 64 * 1024 * 1024, 'grpc.max_receive_message_length': 64 * 1024 * 1024 };

/** See the file comment. */
export class PeerClients {
  private readonly admins = new Map<string, AdminServiceClient>();
  private readonly producers = new Map<string, ProducerServiceClient>();

  /** The AdminService of broker `address`. */
  admin(address: string): AdminServiceClient {
    return cached(this.admins, address, () => new AdminServiceClient(address, credentials.createInsecure(), channelOptions));
  }

  /** The ProducerService of broker `address`. */
  producer(address: string): ProducerServiceClient {
    return cached(this.producers, address, () => new ProducerServiceClient(address, credentials.createInsecure(), channelOptions));
  }

  /** Closes every client. */
  close(): void {
    for (const client of [...this.admins.values(), ...this.producers.values()]) client.close();
    this.admins.clear();
    this.producers.clear();
  }
}

function cached<T>(clients: Map<string, T>, address: string, create: () => T): T {
  let client = clients.get(address);
  if (!client) {
    client = create();
    clients.set(address, client);
  }
  return client;
}

/** A unary peer call as a promise that rejects with a `BraidError`. */
export function peerCall<T>(start: (callback: (error: ServiceError | null, response?: T) => void) => unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    start((error, response) => {
      if (error) reject(fromGrpcError(error));
      else resolve(response as T);
    });
  });
}
