/**
 * The producer's routing view: for each topic, its partition count, each
 * partition's leader address and epoch, and its record size limit, fetched
 * with `GetMetadata` on first use and refreshed when it is old or when a
 * broker says the view is wrong (NOT_LEADER, STALE_EPOCH, UNAVAILABLE, ...).
 */
import { InternalError, TopicNotFoundError } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import { PartitionStatus } from '@braid/proto';
import type { GetMetadataResponse } from '@braid/proto';

/** Where to send one partition's batches. */
export interface PartitionRoute {
  /** The leader's address (host:port). */
  readonly address: string;
  /** The leader epoch to send (0: not checked by the broker). */
  readonly leaderEpoch: number;
  /** False when the metadata reports the partition UNAVAILABLE (its leader is down); absent: available. */
  readonly available?: boolean;
}

/** Routing view of one topic. */
export interface TopicRoute {
  /** Topic name. */
  readonly topic: string;
  /** Partition count. */
  readonly partitions: number;
  /** Route of each partition, indexed by partition number. */
  readonly leaders: readonly PartitionRoute[];
  /** The topic's `max_record_bytes` (0: not reported). */
  readonly maxRecordBytes: number;
  /** When the view was fetched (clock ms). */
  readonly fetchedAt: number;
}

/** A `GetMetadata` answer and the address that gave it. */
export interface FetchedMetadata {
  /** The answer. */
  response: GetMetadataResponse;
  /** The broker that answered; partitions without a leader address are sent there. */
  address: string;
}

/** Options of {@link MetadataCache}. */
export interface MetadataCacheOptions {
  /** Asks the cluster for metadata of `topics`. */
  fetch: (topics: string[]) => Promise<FetchedMetadata>;
  /** Time source for ages. */
  clock: Clock;
  /** Views older than this are refreshed in the background, in ms. */
  maxAgeMs: number;
  /** Where background refresh failures are reported. */
  logger: Logger;
}

/**
 * Builds the route of `topic` from a metadata answer.
 *
 * @throws TopicNotFoundError when the answer does not list the topic.
 */
export function topicRoute(fetched: FetchedMetadata, topic: string, now: number): TopicRoute {
  const entry = fetched.response.topics.find((t) => t.topic?.name === topic);
  if (!entry) throw new TopicNotFoundError(topic);
  const configured = entry.topic?.config?.partitions ?? 0;
  const partitions = configured > 0 ? configured : entry.partitions.length;
  if (partitions < 1) throw new InternalError(`metadata for topic "${topic}" reports no partitions`);
  const fallback: PartitionRoute = { address: fetched.address, leaderEpoch: 0 };
  const leaders: PartitionRoute[] = Array.from({ length: partitions }, () => fallback);
  for (const info of entry.partitions) {
    if (info.partition < 0 || info.partition >= partitions) continue;
    leaders[info.partition] = {
      address: info.leaderAddress || fetched.address,
      leaderEpoch: info.leaderEpoch,
      ...(info.status === PartitionStatus.PARTITION_STATUS_UNAVAILABLE ? { available: false } : {}),
    };
  }
  return { topic, partitions, leaders, maxRecordBytes: entry.topic?.config?.maxRecordBytes ?? 0, fetchedAt: now };
}

/** Cached topic routes with deduplicated fetches. */
export class MetadataCache {
  private readonly routes = new Map<string, TopicRoute>();
  private readonly loading = new Map<string, Promise<TopicRoute>>();

  constructor(private readonly options: MetadataCacheOptions) {}

  /** The cached route of `topic`, if any. */
  get(topic: string): TopicRoute | undefined {
    return this.routes.get(topic);
  }

  /**
   * Fetches the route of `topic` (joining a fetch already running) and
   * caches it. Rejects with the fetch's `BraidError`, or TOPIC_NOT_FOUND.
   */
  load(topic: string): Promise<TopicRoute> {
    let pending = this.loading.get(topic);
    if (!pending) {
      pending = this.options
        .fetch([topic])
        .then((fetched) => {
          const route = topicRoute(fetched, topic, this.options.clock.now());
          this.routes.set(topic, route);
          return route;
        })
        .finally(() => this.loading.delete(topic));
      this.loading.set(topic, pending);
    }
    return pending;
  }

  /**
   * Refreshes `topic` in the background; the old route stays in use
   * meanwhile. The promise settles when the refresh ends (it never rejects:
   * a failure keeps the old view and is logged).
   */
  refresh(topic: string): Promise<void> {
    return this.load(topic).then(
      () => undefined,
      (error: unknown) => {
        this.options.logger.debug({ topic, err: error }, 'metadata refresh failed; keeping the previous view');
      },
    );
  }

  /** Refreshes `topic` in the background when its route is older than `maxAgeMs`. */
  refreshIfStale(route: TopicRoute): void {
    if (this.options.clock.now() - route.fetchedAt >= this.options.maxAgeMs && !this.loading.has(route.topic)) {
      void this.refresh(route.topic);
    }
  }

  /**
   * Points `partition` at `address` (the leader named by a NOT_LEADER
   * answer) until the next fetch brings the full view; its epoch is then
   * unknown (0, not checked).
   */
  setLeader(topic: string, partition: number, address: string): void {
    const route = this.routes.get(topic);
    if (!route || partition >= route.partitions) return;
    const leaders = [...route.leaders];
    leaders[partition] = { address, leaderEpoch: 0 };
    this.routes.set(topic, { ...route, leaders });
  }
}
