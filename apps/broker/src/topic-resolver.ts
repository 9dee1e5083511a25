/**
 * Finds a topic for a request: from the metadata cache, or (on a miss) by
 * asking the coordinator once, so a topic created a moment ago is usable
 * before the watch stream delivers it. Unknown topics are NOT_FOUND.
 */
import { status as Status } from '@grpc/grpc-js';
import { BraidError, TopicNotFoundError } from '@braid/core';
import type { GetMetadataResponse } from '@braid/proto';
import type { MetadataCache, TopicView } from './metadata-cache.js';

/** Fetches metadata of some topics from the coordinator. */
export type MetadataFetcher = (topics: string[]) => Promise<GetMetadataResponse>;

/** See the file comment. */
export class TopicResolver {
  constructor(
    private readonly cache: MetadataCache,
    private readonly fetch: MetadataFetcher,
  ) {}

  /** The topic if cached (synchronous fast path). */
  cached(name: string): TopicView | undefined {
    return this.cache.topic(name);
  }

  /** The topic, fetching it on a cache miss. */
  async resolve(name: string): Promise<TopicView> {
    const cached = this.cache.topic(name);
    if (cached) return cached;
    let fetched: GetMetadataResponse;
    try {
      fetched = await this.fetch([name]);
    } catch (error) {
      // The coordinator answers NOT_FOUND for unknown topics; pass other
      // failures (coordinator down) on as they are.
      if (error instanceof BraidError && error.code === Status.NOT_FOUND) throw new TopicNotFoundError(name);
      throw error;
    }
    this.cache.merge(fetched);
    const topic = this.cache.topic(name);
    if (!topic) throw new TopicNotFoundError(name);
    return topic;
  }
}
