/**
 * Forwarding mode (`--forward-to-leader`), for thin clients that know one
 * broker address and no metadata: records for a partition led by another
 * broker are published there by this broker, and the leader's answer is
 * relayed. Without it such records get NOT_LEADER naming the leader, which
 * smart clients (the SDKs) follow themselves at no extra hop.
 *
 * Forwarded publishes of one partition go one at a time, in the order this
 * broker accepted them, so a thin client's records keep their order per
 * partition (and key) as if it had published to the leader directly. The
 * leader checks everything again (leadership, epoch, idempotence), so a
 * forwarded batch is never appended by anyone but the partition's leader.
 */
import { Metadata } from '@grpc/grpc-js';
import { peerCall } from './peer-clients.js';
import type { PeerClients } from './peer-clients.js';
import type { PublishRequest, PublishResponse } from '@braid/proto';

/** How long a forwarded publish may take (ms). */
const forwardTimeoutMs = 30_000;

/** See the file comment. */
export class PublishForwarder {
  constructor(private readonly peers: PeerClients) {}

  /** The last forwarded publish per `topic/partition`, which the next one waits for. */
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Publishes `request` (records of one partition) at the leader `address`, after earlier forwards of that partition. */
  forward(address: string, partition: number, request: PublishRequest): Promise<PublishResponse> {
    const key = `${request.topic}/${partition}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const sent = previous.then(() => this.publish(address, request));
    const tail = sent.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return sent;
  }

  private publish(address: string, request: PublishRequest): Promise<PublishResponse> {
    return peerCall((callback) => this.peers.producer(address).publish(request, new Metadata(), { deadline: Date.now() + forwardTimeoutMs }, callback));
  }
}
