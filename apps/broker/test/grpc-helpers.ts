// Small promise helpers over the generated grpc-js clients, for the broker's
// integration tests.
import { credentials } from '@grpc/grpc-js';
import { call } from '@braid/testkit';
import { AdminServiceClient, Durability, ProducerServiceClient, PublishRequest, SubscriptionConfig } from '@braid/proto';
import type { DescribeBrokerResponse, DescribeSubscriptionResponse, PublishResponse, PublishStreamRequest, PublishStreamResponse, Topic, TopicConfig } from '@braid/proto';

/** What `PublishRequest.fromPartial` accepts. */
export type PublishInput = Parameters<typeof PublishRequest.fromPartial>[0];

export const channelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};

export function clients(address: string): { admin: AdminServiceClient; producer: ProducerServiceClient; close(): void } {
  const admin = new AdminServiceClient(address, credentials.createInsecure(), channelOptions);
  const producer = new ProducerServiceClient(address, credentials.createInsecure(), channelOptions);
  return { admin, producer, close: () => { admin.close(); producer.close(); } };
}

export async function createTopic(admin: AdminServiceClient, name: string, config: Partial<TopicConfig>): Promise<Topic> {
  const response = await call<{ topic?: Topic }>((cb) => {
    admin.createTopic({ name, config: { partitions: 1, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 0, ...config } }, cb);
  });
  if (!response.topic) throw new Error('no topic in CreateTopicResponse');
  return response.topic;
}

/** Creates a subscription; settings left out take their defaults. */
export async function createSubscription(
  admin: AdminServiceClient,
  topic: string,
  name: string,
  config: Parameters<typeof SubscriptionConfig.fromPartial>[0],
): Promise<void> {
  await call((cb) => { admin.createSubscription({ topic, name, config: SubscriptionConfig.fromPartial(config) }, cb); });
}

/** A subscription's settings, per-partition progress and members. */
export function describeSubscription(admin: AdminServiceClient, topic: string, name: string): Promise<DescribeSubscriptionResponse> {
  return call((cb) => { admin.describeSubscription({ topic, name }, cb); });
}

/** The broker's own state (memory, Subscribe stream buffers). */
export function describeBroker(admin: AdminServiceClient): Promise<DescribeBrokerResponse> {
  return call((cb) => { admin.describeBroker({}, cb); });
}

export function publish(producer: ProducerServiceClient, request: PublishInput): Promise<PublishResponse> {
  return call((cb) => { producer.publish(PublishRequest.fromPartial(request), cb); });
}

/** A pipelined publish stream: `send` resolves with the answer to that batch. */
export class PublishStreamClient {
  private readonly stream;
  private nextId = 1;
  private readonly waiting = new Map<number, (response: PublishStreamResponse) => void>();
  readonly closed: Promise<unknown>;

  constructor(producer: ProducerServiceClient) {
    this.stream = producer.publishStream();
    this.stream.on('data', (response: PublishStreamResponse) => {
      this.waiting.get(response.requestId)?.(response);
      this.waiting.delete(response.requestId);
    });
    this.closed = new Promise((resolve) => {
      this.stream.on('error', resolve);
      this.stream.on('end', () => { resolve(undefined); });
    });
  }

  send(request: PublishInput): Promise<PublishStreamResponse> {
    const requestId = this.nextId++;
    const message: PublishStreamRequest = { requestId, publish: PublishRequest.fromPartial(request) };
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.stream.write(message);
    });
  }

  end(): void {
    this.stream.end();
  }
}

export { call, failure } from '@braid/testkit';
