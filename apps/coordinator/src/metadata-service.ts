/**
 * The read side of cluster metadata: `GetMetadata` / `DescribeTopic`
 * answers built from the registries (topics with their partitions and
 * subscriptions, brokers), and `WatchMetadata` streams that send
 * the full metadata at once and again after every change.
 *
 * A watcher that reads slowly is not buffered for: when `write()` returns
 * false the stream waits for 'drain' and then sends the metadata as it is
 * by then, so changes that happened meanwhile are coalesced into one
 * message and memory per watcher stays at one snapshot.
 */
import { ShuttingDownError } from '@braid/core';
import type { Logger } from '@braid/core';
import type { DescribeTopicResponse, GetMetadataResponse, WatchMetadataRequest, WatchMetadataResponse } from '@braid/proto';
import type { BrokerRegistry, BrokerState } from './broker-registry.js';
import type { MetadataChanges } from './metadata-changes.js';
import { brokerInfo, partitionInfos, subscriptionMessage, topicMessage } from './metadata-messages.js';
import type { SubscriptionRegistry } from './subscription-registry.js';
import type { TopicRegistry } from './topic-registry.js';

/** The part of a grpc-js server stream a watch uses (a `ServerWritableStream` fits). */
export interface WatchStream {
  readonly request: WatchMetadataRequest;
  write(message: WatchMetadataResponse): boolean;
  on(event: 'drain' | 'cancelled' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'cancelled' | 'close', listener: () => void): unknown;
}

/** Options of `MetadataService`. */
export interface MetadataServiceOptions {
  topics: TopicRegistry;
  subscriptions: SubscriptionRegistry;
  brokers: BrokerRegistry;
  changes: MetadataChanges;
  logger: Logger;
}

/** Resolves on `event` from `stream` or when `signal` aborts. */
function eventOrAbort(stream: WatchStream, event: 'drain', signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off(event, done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    stream.on(event, done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** See the file comment. */
export class MetadataService {
  private readonly closing = new AbortController();
  private watchers = 0;

  constructor(private readonly options: MetadataServiceOptions) {}

  /**
   * The metadata of `topicNames` (every topic, by name, when empty; else in
   * the order asked, duplicates once) with their partitions and
   * subscriptions (by name), and every registered broker by id.
   * INVALID_ARGUMENT for a bad name, NOT_FOUND for an unknown topic.
   */
  snapshot(topicNames: readonly string[] = []): GetMetadataResponse {
    const { topics, subscriptions, brokers, changes } = this.options;
    const selected = topicNames.length === 0 ? topics.list() : [...new Set(topicNames)].map((name) => topics.get(name));
    const brokerList = brokers.list();
    const byId = new Map<string, BrokerState>(brokerList.map((broker) => [broker.brokerId, broker]));
    return {
      brokers: brokerList.map(brokerInfo),
      topics: selected.map((topic) => ({
        topic: topicMessage(topic),
        partitions: partitionInfos(topic, byId),
        subscriptions: subscriptions.ofTopic(topic.name).map(subscriptionMessage),
      })),
      version: changes.version,
    };
  }

  /** Topic `name` with its partitions. INVALID_ARGUMENT for a bad name, NOT_FOUND if unknown. */
  describeTopic(name: string): DescribeTopicResponse {
    const [entry] = this.snapshot([name]).topics;
    return { topic: entry?.topic, partitions: entry?.partitions ?? [] };
  }

  /** Open watch streams. */
  get watcherCount(): number {
    return this.watchers;
  }

  /**
   * Serves one WatchMetadata call until the client cancels it (resolves) or
   * the service closes (rejects with SHUTTING_DOWN, so the broker
   * reconnects, to this coordinator once it is back or to its successor).
   */
  async watch(stream: WatchStream): Promise<void> {
    if (this.isClosing()) throw new ShuttingDownError('coordinator');
    const log = this.options.logger.child({ watcher: stream.request.brokerId });
    // Ends on the client's cancel (or a vanished connection) and on close().
    const ended = new AbortController();
    const end = (): void => { ended.abort(); };
    stream.on('cancelled', end);
    stream.on('close', end);
    this.closing.signal.addEventListener('abort', end, { once: true });
    this.watchers++;
    log.debug({}, 'metadata watch opened');
    try {
      while (!ended.signal.aborted) {
        const metadata = this.snapshot();
        if (!stream.write({ metadata })) await eventOrAbort(stream, 'drain', ended.signal);
        await this.options.changes.waitForChange(metadata.version, ended.signal);
      }
    } finally {
      stream.off('cancelled', end);
      stream.off('close', end);
      this.closing.signal.removeEventListener('abort', end);
      this.watchers--;
      log.debug({}, 'metadata watch closed');
    }
    // Ended by `close()`: tell the broker to reconnect. Otherwise the client
    // cancelled and there is nobody left to tell.
    if (this.isClosing()) throw new ShuttingDownError('coordinator');
  }

  private isClosing(): boolean {
    return this.closing.signal.aborted;
  }

  /** Ends every watch (with SHUTTING_DOWN) and refuses new ones. */
  close(): void {
    this.closing.abort(new ShuttingDownError('coordinator'));
  }
}
