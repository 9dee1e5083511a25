/**
 * Finds the subscription a member opens: from the metadata cache, else from
 * the coordinator (the watch may not have delivered it yet), else, when the
 * member asked for it, by creating it at the coordinator first.
 */
import { status as Status } from '@grpc/grpc-js';
import { BraidError, SubscriptionNotFoundError } from '@braid/core';
import type { OpenRequest, Subscription } from '@braid/proto';
import type { CoordinatorLink } from './coordinator-link.js';
import type { MetadataCache, TopicView } from './metadata-cache.js';
import type { TopicResolver } from './topic-resolver.js';

/** See the file comment. */
export class SubscriptionResolver {
  constructor(
    private readonly cache: MetadataCache,
    private readonly topics: TopicResolver,
    private readonly link: CoordinatorLink,
  ) {}

  /** The topic and subscription `open` names. */
  async resolve(open: OpenRequest): Promise<{ topic: TopicView; subscription: Subscription }> {
    let topic = await this.topics.resolve(open.topic);
    let subscription = topic.subscriptions.get(open.subscription);
    if (!subscription) ({ topic, subscription } = await this.refetch(open.topic, open.subscription));
    if (!subscription && open.createIfMissing) {
      try {
        await this.link.createSubscription({ topic: open.topic, name: open.subscription, config: open.config });
      } catch (error) {
        // Another member created it at the same moment: fine.
        if (!(error instanceof BraidError && error.code === Status.ALREADY_EXISTS)) throw error;
      }
      ({ topic, subscription } = await this.refetch(open.topic, open.subscription));
    }
    if (!subscription) throw new SubscriptionNotFoundError(open.topic, open.subscription);
    return { topic, subscription };
  }

  private async refetch(topicName: string, name: string): Promise<{ topic: TopicView; subscription: Subscription | undefined }> {
    this.cache.merge(await this.link.fetchMetadata([topicName]));
    const topic = await this.topics.resolve(topicName);
    return { topic, subscription: topic.subscriptions.get(name) };
  }
}
