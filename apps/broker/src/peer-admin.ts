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
import { Metadata } from '@grpc/grpc-js';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { peerCall } from './peer-clients.js';
import type { PeerClients } from './peer-clients.js';
import type { DescribeSubscriptionRequest, DescribeSubscriptionResponse, DescribeTopicRequest, DescribeTopicResponse, SeekRequest, SeekResponse } from '@braid/proto';

const scopeHeader = 'braid-scope';
const leaderLocal = 'leader-local';

/** How long a broker waits for a peer's part (ms). */
const peerTimeoutMs = 5_000;

/** Whether `call` asks for this broker's part only (see the file comment). */
export function isLeaderLocal(call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata'>): boolean {
  return call.metadata.get(scopeHeader).includes(leaderLocal);
}

/** Admin calls to the other leaders, over the broker's shared peer clients. */
export class PeerAdmin {
  constructor(private readonly peers: PeerClients) {}

  /** Broker `address`'s DescribeTopic for the partitions it leads. */
  describeTopic(address: string, request: DescribeTopicRequest): Promise<DescribeTopicResponse> {
    return peerCall((callback) => this.peers.admin(address).describeTopic(request, leaderLocalMetadata(), callOptions(), callback));
  }

  /** Broker `address`'s progress, members and circuit state of a subscription, for the partitions it leads. */
  describeSubscription(address: string, request: DescribeSubscriptionRequest): Promise<DescribeSubscriptionResponse> {
    return peerCall((callback) => this.peers.admin(address).describeSubscription(request, leaderLocalMetadata(), callOptions(), callback));
  }

  /** Seeks the partitions broker `address` leads. */
  seek(address: string, request: SeekRequest): Promise<SeekResponse> {
    return peerCall((callback) => this.peers.admin(address).seek(request, leaderLocalMetadata(), callOptions(), callback));
  }
}

function leaderLocalMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set(scopeHeader, leaderLocal);
  return metadata;
}

function callOptions(): { deadline: number } {
  return { deadline: Date.now() + peerTimeoutMs };
}
