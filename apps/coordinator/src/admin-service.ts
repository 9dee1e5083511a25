/**
 * AdminService handlers of the coordinator: topics and metadata. The
 * subscription RPCs and Seek answer UNIMPLEMENTED until the subscription
 * issue lands.
 */
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { AdminServiceService } from '@braid/proto';
import type { AdminServiceServer } from '@braid/proto';
import { unary, unimplementedService } from '@braid/server';
import { topicMessage } from './metadata-messages.js';
import type { MetadataService } from './metadata-service.js';
import type { TopicRegistry } from './topic-registry.js';

/** What the handlers need. */
export interface AdminServiceDeps {
  topics: TopicRegistry;
  metadata: MetadataService;
}

type TopicHandlers = Pick<AdminServiceServer, 'createTopic' | 'deleteTopic' | 'listTopics' | 'describeTopic' | 'getMetadata'>;

/** The AdminService implementation. */
export function adminService({ topics, metadata }: AdminServiceDeps): UntypedServiceImplementation {
  const handlers: TopicHandlers = {
    createTopic: unary(async (request) => ({ topic: topicMessage(await topics.create(request.name, request.config)) })),
    deleteTopic: unary(async (request) => {
      await topics.delete(request.name);
      return {};
    }),
    listTopics: unary(() => Promise.resolve({ topics: topics.list().map(topicMessage) })),
    describeTopic: unary((request) => Promise.resolve(metadata.describeTopic(request.name))),
    getMetadata: unary((request) => Promise.resolve(metadata.snapshot(request.topics))),
  };
  return unimplementedService(AdminServiceService, handlers);
}
