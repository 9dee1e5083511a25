/**
 * The subscription dispatchers of this broker, created on the first member's
 * open and dropped when their subscription or topic is deleted. Publishes
 * wake the dispatchers of their topic.
 */
import type { Clock, Logger, Random } from '@braid/core';
import type { Subscription } from '@braid/proto';
import type { LogStore, RetryState } from '@braid/storage';
import type { BrokerMetrics } from '@braid/telemetry';
import type { MetadataCache, TopicView } from '../metadata-cache.js';
import type { DeadLetterWriter } from './dead-letter-writer.js';
import { SubscriptionDispatcher } from './subscription-dispatcher.js';
import type { RetryTimerLink } from './subscription-dispatcher.js';

/** Options of `DispatcherRegistry`. */
export interface DispatcherRegistryOptions {
  brokerId: string;
  store: LogStore;
  cache: MetadataCache;
  clock: Clock;
  random: Random;
  logger: Logger;
  deadLetters: DeadLetterWriter;
  timers: RetryTimerLink;
  onDeadLettered?: (topic: string, subscription: string) => void;
  /** The broker's instruments (default: on the global meter provider). */
  metrics?: BrokerMetrics;
}

interface Entry {
  topicId: number;
  name: string;
  dispatcher: Promise<SubscriptionDispatcher>;
  /** The dispatcher once created. */
  ready?: SubscriptionDispatcher;
}

/** See the file comment. */
export class DispatcherRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: DispatcherRegistryOptions) {}

  /** The dispatcher of `subscription` on `topic`, created on first use. */
  get(topic: TopicView, subscription: Subscription): Promise<SubscriptionDispatcher> {
    const id = `${topic.id}/${subscription.name}`;
    const existing = this.entries.get(id);
    if (existing) return existing.dispatcher;
    const dispatcher = SubscriptionDispatcher.create({
      topic: topic.name,
      topicId: topic.id,
      partitions: this.options.cache.ledPartitions(topic, this.options.brokerId),
      topicPartitions: topic.partitions,
      subscription,
      store: this.options.store,
      clock: this.options.clock,
      random: this.options.random,
      logger: this.options.logger.child({ topic: topic.name, subscription: subscription.name }),
      deadLetters: this.options.deadLetters,
      timers: this.options.timers,
      onDeadLettered: this.options.onDeadLettered,
      metrics: this.options.metrics,
    });
    const entry: Entry = { topicId: topic.id, name: subscription.name, dispatcher };
    this.entries.set(id, entry);
    dispatcher.then(
      (created) => { entry.ready = created; },
      // A failed creation must not poison later opens.
      () => { if (this.entries.get(id) === entry) this.entries.delete(id); },
    );
    return dispatcher;
  }

  /** The dispatcher if it exists already. */
  find(topicId: number, name: string): Promise<SubscriptionDispatcher> | undefined {
    return this.entries.get(`${topicId}/${name}`)?.dispatcher;
  }

  /** The dispatchers created so far (for metrics, read at collection time). */
  *ready(): Generator<SubscriptionDispatcher> {
    for (const entry of this.entries.values()) if (entry.ready) yield entry.ready;
  }

  /** Records were appended to (`topicId`, `partition`). */
  appended(topicId: number, partition: number): void {
    for (const entry of this.entries.values()) {
      if (entry.topicId !== topicId) continue;
      void entry.dispatcher.then((d) => { d.appended(partition); }, () => undefined);
    }
  }

  /**
   * Retries that came due. A subscription without a dispatcher here yet
   * finds its due retries when its first member opens.
   */
  retriesDue(states: readonly RetryState[]): void {
    const bySubscription = new Map<string, RetryState[]>();
    for (const state of states) {
      const id = `${state.topicId}/${state.subscription}`;
      const list = bySubscription.get(id) ?? [];
      list.push(state);
      bySubscription.set(id, list);
    }
    for (const [id, list] of bySubscription) {
      void this.entries.get(id)?.dispatcher.then((d) => { d.retriesDue(list); }, () => undefined);
    }
  }

  /** Follows metadata: new settings, deleted subscriptions and topics. */
  refresh(): void {
    const topicsById = new Map<number, TopicView>();
    for (const topic of this.options.cache.allTopics()) topicsById.set(topic.id, topic);
    for (const [id, entry] of this.entries) {
      const subscription = topicsById.get(entry.topicId)?.subscriptions.get(entry.name);
      if (!subscription) {
        this.entries.delete(id);
        void entry.dispatcher.then((d) => { d.close(); }, () => undefined);
        continue;
      }
      void entry.dispatcher.then((d) => { d.update(subscription); }, () => undefined);
    }
  }

  /** Stops every dispatcher. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.dispatcher.then((d) => { d.close(); }, () => undefined)));
  }
}
