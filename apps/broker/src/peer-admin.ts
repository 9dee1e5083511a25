/**
 * Admin calls to the other brokers of the cluster. A broker answers
 * DescribeTopic, DescribeSubscription and Seek for any topic, but only the
 * leader of a partition knows its watermarks, its subscriptions' progress
 * and members, and can move their cursors. So the broker that receives such
 * a call asks each other leader of the topic for its part: the same RPC with
 * the `braid-scope: leader-local` metadata, which a broker answers from the
 * partitions it leads only, never asking further (`isLeaderLocal`). Clients
 * thus need one address, whatever the language, as with every other admin
 * call.
 */
import { Metadata, credentials } from '@grpc/grpc-js';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { fromGrpcError } from '@braid/core';
import { AdminServiceClient } from '@braid/proto';
import type { DescribeSubscriptionRequest, DescribeSubscriptionResponse, DescribeTopicRequest, DescribeTopicResponse, SeekRequest, SeekResponse } from '@braid/proto';

const scopeHeader = 'braid-scope';
const leaderLocal = 'leader-local';

/** How long a broker waits for a peer's part (ms). */
const peerTimeoutMs = 5_000;

/** Whether `call` asks for this broker's part only (see the file comment). */
export function isLeaderLocal(call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata'>): boolean {
  return call.metadata.get(scopeHeader).includes(leaderLocal);
}

type Callback<T> = (error: Error | null, response?: T) => void;

/** Clients of the other brokers, one channel per address. */
export class PeerAdmin {
  private readonly clients = new Map<string, AdminServiceClient>();

  /** Broker `address`'s DescribeTopic for the partitions it leads. */
  describeTopic(address: string, request: DescribeTopicRequest): Promise<DescribeTopicResponse> {
    return this.call(address, (client, metadata, deadline, callback) => client.describeTopic(request, metadata, { deadline }, callback));
  }

  /** Broker `address`'s progress, members and circuit state of a subscription, for the partitions it leads. */
  describeSubscription(address: string, request: DescribeSubscriptionRequest): Promise<DescribeSubscriptionResponse> {
    return this.call(address, (client, metadata, deadline, callback) => client.describeSubscription(request, metadata, { deadline }, callback));
  }

  /** Seeks the partitions broker `address` leads. */
  seek(address: string, request: SeekRequest): Promise<SeekResponse> {
    return this.call(address, (client, metadata, deadline, callback) => client.seek(request, metadata, { deadline }, callback));
  }

  /** Closes every channel. */
  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call<T>(address: string, fn: (client: AdminServiceClient, metadata: Metadata, deadline: number, callback: Callback<T>) => unknown): Promise<T> {
    let client = this.clients.get(address);
    if (!client) {
      client = new AdminServiceClient(address, credentials.createInsecure());
      this.clients.set(address, client);
    }
    const metadata = new Metadata();
    metadata.set(scopeHeader, leaderLocal);
    const target = client;
    return new Promise((resolve, reject) => {
      fn(target, metadata, Date.now() + peerTimeoutMs, (error, response) => {
        if (error) reject(fromGrpcError(error));
        else resolve(response as T);
      });
    });
  }
}
