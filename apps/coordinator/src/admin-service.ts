/**
 * AdminService handlers of the coordinator: topics, subscriptions and
 * metadata. `Seek` answers UNIMPLEMENTED: cursors are kept by the brokers
 * leading the partitions, which serve it. `DescribeBroker` describes the
 * coordinator process itself (its memory; it holds no Subscribe streams).
 * `ReadRecords` redirects to the partition's leader (NOT_LEADER with its
 * address): the logs are on the brokers (`read-records-redirect.ts`).
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { UnimplementedError } from '@braid/core';
import { AdminServiceService } from '@braid/proto';
import type { AdminServiceServer } from '@braid/proto';
import { processMemory, unary, unimplementedService } from '@braid/server';
import { subscriptionDescription, subscriptionMessage, topicMessage } from './metadata-messages.js';
import type { MetadataService } from './metadata-service.js';
import { readRecordsRedirect } from './read-records-redirect.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { TopicRegistry } from './topic-registry.js';

/** What the handlers need. */
export interface AdminServiceDeps {
  topics: TopicRegistry;
  subscriptions: SubscriptionRegistry;
  metadata: MetadataService;
  /** The coordinator's address (host:port), for DescribeBroker. */
  address: () => string;
}

/** The AdminService implementation. */
export function adminService({ topics, subscriptions, metadata, address }: AdminServiceDeps): UntypedServiceImplementation {
  const handlers: AdminServiceServer = {
    createTopic: unary(async (request) => ({ topic: topicMessage(await topics.create(request.name, request.config)) })),
    deleteTopic: unary(async (request) => {
      await topics.delete(request.name);
      return {};
    }),
    listTopics: unary(() => Promise.resolve({ topics: topics.list().map(topicMessage) })),
    describeTopic: unary((request) => Promise.resolve(metadata.describeTopic(request.name))),
    createSubscription: unary(async (request) => ({
      subscription: subscriptionMessage(await subscriptions.create(request.topic, request.name, request.config)),
    })),
    updateSubscription: unary(async (request) => ({
      subscription: subscriptionMessage(await subscriptions.update(request.topic, request.name, request.config)),
    })),
    deleteSubscription: unary(async (request) => {
      await subscriptions.delete(request.topic, request.name);
      return {};
    }),
    // An empty topic lists every topic's subscriptions.
    listSubscriptions: unary((request) =>
      Promise.resolve({ subscriptions: subscriptions.list(request.topic === '' ? undefined : request.topic).map(subscriptionMessage) }),
    ),
    describeSubscription: unary((request) => Promise.resolve(subscriptionDescription(subscriptions.get(request.topic, request.name)))),
    seek: unary(() =>
      Promise.reject(
        new UnimplementedError(
          '/braid.v1.AdminService/Seek is not served by the coordinator: subscription cursors are kept by the brokers leading the partitions; send it to a broker',
        ),
      ),
    ),
    getMetadata: unary((request) => Promise.resolve(metadata.snapshot(request.topics))),
    readRecords: unary((request) => Promise.reject(readRecordsRedirect(metadata, request))),
    describeBroker: unary(() =>
      Promise.resolve({
        brokerId: '',
        address: address(),
        deadLetteredRecords: 0,
        memory: processMemory(),
        consume: { subscribeStreams: 0, queuedMessages: 0, queuedBytes: 0 },
      }),
    ),
  };
  // Every RPC is implemented; the wrapper covers RPCs a newer contract may add.
  return unimplementedService(AdminServiceService, handlers);
}
