/**
 * Subscriptions: named cursors over a topic and their settings. The
 * coordinator keeps only what every broker must agree on (mode, start
 * position, ack timeout, limits, retry policy, dead-letter topic, rate
 * limit, circuit breaker); cursors, members and delivery state live with
 * the brokers leading the partitions, which learn about subscriptions
 * through the metadata (each topic's `subscriptions`).
 *
 * Every change goes through `MetadataChanges`, so it is durable before it
 * is visible and bumps the metadata version that watching brokers follow.
 * Deleting a topic deletes its subscriptions in the same change (this
 * registry is a `TopicDependent` of the topic registry).
 */
import { isDeepStrictEqual } from 'node:util';
import { AlreadyExistsError, SubscriptionNotFoundError, assertValidName } from '@braid/core';
import type { Clock, Logger } from '@braid/core';
import type { SubscriptionConfig } from '@braid/proto';
import type { MetadataChanges } from './metadata-changes.js';
import { metadataKeys } from './metadata-keys.js';
import { del, putJson } from './metadata-store.js';
import type { MetadataStore, StoreOp } from './metadata-store.js';
import { parseStoredSubscription, toStoredSubscription } from './stored-subscription.js';
import { newSubscriptionSettings, parseSubscriptionConfig, updatedSubscriptionSettings } from './subscription-settings.js';
import type { SubscriptionSettings } from './subscription-settings.js';
import type { TopicDependent, TopicRegistry } from './topic-registry.js';

/** A subscription as the coordinator knows it. */
export interface SubscriptionState {
  /** Topic subscribed to. */
  topic: string;
  /** Id of that topic when the subscription was created (brokers key delivery state by it). */
  topicId: number;
  name: string;
  createdAtMs: number;
  settings: SubscriptionSettings;
}

/** Options of `SubscriptionRegistry.load`. */
export interface SubscriptionRegistryOptions {
  store: MetadataStore;
  changes: MetadataChanges;
  topics: TopicRegistry;
  clock: Clock;
  logger: Logger;
}

function byName(a: SubscriptionState, b: SubscriptionState): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The subscriptions of the cluster; see the file comment. */
export class SubscriptionRegistry implements TopicDependent {
  /** Topic name -> subscription name -> subscription. */
  private readonly byTopic = new Map<string, Map<string, SubscriptionState>>();

  private constructor(private readonly options: SubscriptionRegistryOptions) {}

  /**
   * Loads every subscription from the store (the topic registry must be
   * loaded) and registers with the topic registry so that deleting a topic
   * deletes its subscriptions.
   */
  static async load(options: SubscriptionRegistryOptions): Promise<SubscriptionRegistry> {
    const registry = new SubscriptionRegistry(options);
    const { store, topics } = options;
    const topicIds = new Map(topics.list().map((t) => [t.name, t.id]));
    for (const { key, value } of await store.list(metadataKeys.subscriptionPrefix)) {
      const subscription = parseStoredSubscription(key, value);
      if (key !== metadataKeys.subscription(subscription.topic, subscription.name)) {
        throw new Error(`metadata store is inconsistent: ${key} holds subscription "${subscription.name}" of topic "${subscription.topic}"`);
      }
      // A subscription is deleted in the same batch as its topic, so one
      // without its topic (or bound to an older topic of the same name)
      // means the store was damaged: refuse to guess.
      const topicId = topicIds.get(subscription.topic);
      if (topicId !== subscription.topicId) {
        throw new Error(
          `metadata store is inconsistent: ${key} belongs to topic id ${subscription.topicId}, but ${metadataKeys.topic(subscription.topic)} ${topicId === undefined ? 'does not exist' : `has id ${topicId}`}`,
        );
      }
      registry.put(subscription);
    }
    topics.addDependent(registry);
    return registry;
  }

  /**
   * Creates subscription `name` on `topic` with `config` (zero values take
   * defaults). INVALID_ARGUMENT for a bad name or setting, NOT_FOUND if the
   * topic is unknown, ALREADY_EXISTS if the subscription exists.
   */
  async create(topic: string, name: string, config: SubscriptionConfig | undefined): Promise<SubscriptionState> {
    assertValidName('topic', topic);
    assertValidName('subscription', name);
    const settings = newSubscriptionSettings(parseSubscriptionConfig(topic, name, config));
    const { changes, clock, logger, topics } = this.options;
    return await changes.run(() => {
      const topicState = topics.get(topic);
      if (this.byTopic.get(topic)?.has(name) === true) {
        throw new AlreadyExistsError(`subscription "${name}" on topic "${topic}" already exists`, { metadata: { topic, subscription: name } });
      }
      const subscription: SubscriptionState = { topic, topicId: topicState.id, name, createdAtMs: clock.now(), settings };
      return {
        ops: [putJson(metadataKeys.subscription(topic, name), toStoredSubscription(subscription))],
        apply: () => {
          this.put(subscription);
          logger.info({ topic, subscription: name, mode: settings.mode, startPosition: settings.startPosition }, 'subscription created');
        },
        result: subscription,
      };
    });
  }

  /**
   * Replaces the runtime settings of subscription `name` on `topic` with
   * `config` (zero values take defaults). Mode, start position and start
   * time must be left unset or equal the current ones. INVALID_ARGUMENT for
   * a bad name or setting, NOT_FOUND for an unknown topic or subscription,
   * FAILED_PRECONDITION for a changed mode or start. An update that changes
   * nothing writes nothing and keeps the version.
   */
  async update(topic: string, name: string, config: SubscriptionConfig | undefined): Promise<SubscriptionState> {
    assertValidName('topic', topic);
    assertValidName('subscription', name);
    const requested = parseSubscriptionConfig(topic, name, config);
    const { changes, logger } = this.options;
    return await changes.run(() => {
      const current = this.find(topic, name);
      const settings = updatedSubscriptionSettings(current.settings, requested);
      const updated: SubscriptionState = { ...current, settings };
      return {
        ops: [putJson(metadataKeys.subscription(topic, name), toStoredSubscription(updated))],
        apply: () => {
          this.put(updated);
          logger.info({ topic, subscription: name }, 'subscription updated');
        },
        result: updated,
        noop: isDeepStrictEqual(settings, current.settings),
      };
    });
  }

  /** Deletes subscription `name` on `topic`. INVALID_ARGUMENT for a bad name, NOT_FOUND if unknown. */
  async delete(topic: string, name: string): Promise<SubscriptionState> {
    assertValidName('topic', topic);
    assertValidName('subscription', name);
    const { changes, logger } = this.options;
    return await changes.run(() => {
      const subscription = this.find(topic, name);
      return {
        ops: [del(metadataKeys.subscription(topic, name))],
        apply: () => {
          this.remove(topic, name);
          logger.info({ topic, subscription: name }, 'subscription deleted');
        },
        result: subscription,
      };
    });
  }

  /**
   * Subscriptions of `topic` (by name), or of every topic (by topic, then
   * name) when `topic` is undefined. INVALID_ARGUMENT for a bad name,
   * NOT_FOUND for an unknown topic.
   */
  list(topic?: string): SubscriptionState[] {
    if (topic !== undefined) {
      this.options.topics.get(topic); // throws INVALID_ARGUMENT or NOT_FOUND
      return this.ofTopic(topic);
    }
    return this.options.topics.list().flatMap((t) => this.ofTopic(t.name));
  }

  /** Subscriptions of `topic` by name; empty for an unknown topic. */
  ofTopic(topic: string): SubscriptionState[] {
    return [...(this.byTopic.get(topic)?.values() ?? [])].sort(byName);
  }

  /** Subscription `name` on `topic`. INVALID_ARGUMENT for a bad name, NOT_FOUND for an unknown topic or subscription. */
  get(topic: string, name: string): SubscriptionState {
    assertValidName('topic', topic);
    assertValidName('subscription', name);
    return this.find(topic, name);
  }

  /** See `TopicDependent`. */
  planTopicDeletion(topic: string): { ops: StoreOp[]; apply(): void } {
    const doomed = this.ofTopic(topic);
    return {
      ops: doomed.map((subscription) => del(metadataKeys.subscription(topic, subscription.name))),
      apply: () => {
        this.byTopic.delete(topic);
        if (doomed.length > 0) {
          this.options.logger.info({ topic, subscriptions: doomed.map((s) => s.name) }, 'subscriptions deleted with their topic');
        }
      },
    };
  }

  private find(topic: string, name: string): SubscriptionState {
    // An unknown topic is reported as such (TOPIC_NOT_FOUND): it tells the
    // caller more than "no such subscription".
    this.options.topics.get(topic);
    const subscription = this.byTopic.get(topic)?.get(name);
    if (!subscription) throw new SubscriptionNotFoundError(topic, name);
    return subscription;
  }

  private put(subscription: SubscriptionState): void {
    let ofTopic = this.byTopic.get(subscription.topic);
    if (!ofTopic) {
      ofTopic = new Map();
      this.byTopic.set(subscription.topic, ofTopic);
    }
    ofTopic.set(subscription.name, subscription);
  }

  private remove(topic: string, name: string): void {
    const ofTopic = this.byTopic.get(topic);
    ofTopic?.delete(name);
    if (ofTopic?.size === 0) this.byTopic.delete(topic);
  }
}
