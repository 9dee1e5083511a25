/**
 * How a subscription is stored at `subscriptions/<topic>/<name>`: JSON with
 * its settings, enums by name (so the value reads well in `etcdctl get` and
 * survives a renumbering nobody intends to make), and the id of the topic
 * it was created on, so a store where a subscription outlived its topic is
 * recognised on load instead of attaching it to a newer topic of the same
 * name.
 */
import { z } from 'zod';
import { Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import { subscriptionLimits } from './defaults.js';
import { parseJson } from './metadata-store.js';
import type { SubscriptionState } from './subscription-registry.js';
import type { ResolvedJitter, ResolvedMode, ResolvedRetryOrder, ResolvedStartPosition } from './subscription-settings.js';

/** A closed enum stored by name: its zod schema and both directions of the mapping. */
function storedEnum<const Name extends string, Value extends number>(byName: Readonly<Record<Name, Value>>) {
  const names = Object.keys(byName) as Name[];
  const [first, ...rest] = names;
  if (first === undefined) throw new Error('a stored enum needs at least one value');
  return {
    schema: z.enum([first, ...rest]),
    name(value: Value): Name {
      const name = names.find((candidate) => byName[candidate] === value);
      if (name === undefined) throw new Error(`no stored name for enum value ${value}`);
      return name;
    },
    value(name: Name): Value {
      return byName[name];
    },
  };
}

const modes = storedEnum<'SUBSCRIPTION_MODE_PARTITIONED' | 'SUBSCRIPTION_MODE_KEY_SHARED' | 'SUBSCRIPTION_MODE_SHARED', ResolvedMode>({
  SUBSCRIPTION_MODE_PARTITIONED: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
  SUBSCRIPTION_MODE_KEY_SHARED: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
  SUBSCRIPTION_MODE_SHARED: SubscriptionMode.SUBSCRIPTION_MODE_SHARED,
});
const startPositions = storedEnum<'START_POSITION_EARLIEST' | 'START_POSITION_LATEST' | 'START_POSITION_TIMESTAMP', ResolvedStartPosition>({
  START_POSITION_EARLIEST: StartPosition.START_POSITION_EARLIEST,
  START_POSITION_LATEST: StartPosition.START_POSITION_LATEST,
  START_POSITION_TIMESTAMP: StartPosition.START_POSITION_TIMESTAMP,
});
const jitters = storedEnum<'JITTER_NONE' | 'JITTER_FULL' | 'JITTER_EQUAL' | 'JITTER_DECORRELATED', ResolvedJitter>({
  JITTER_NONE: Jitter.JITTER_NONE,
  JITTER_FULL: Jitter.JITTER_FULL,
  JITTER_EQUAL: Jitter.JITTER_EQUAL,
  JITTER_DECORRELATED: Jitter.JITTER_DECORRELATED,
});
const retryOrders = storedEnum<'RETRY_ORDER_BLOCK_KEY' | 'RETRY_ORDER_SKIP', ResolvedRetryOrder>({
  RETRY_ORDER_BLOCK_KEY: RetryOrder.RETRY_ORDER_BLOCK_KEY,
  RETRY_ORDER_SKIP: RetryOrder.RETRY_ORDER_SKIP,
});

const count = z.number().int().min(0);

const storedSubscriptionSchema = z.object({
  topic: z.string().min(1),
  topicId: z.number().int().positive(),
  name: z.string().min(1),
  createdAtMs: z.number().int(),
  settings: z.object({
    mode: modes.schema,
    startPosition: startPositions.schema,
    startTimeMs: count,
    ackTimeoutMs: z.number().int().min(subscriptionLimits.minAckTimeoutMs).max(subscriptionLimits.maxAckTimeoutMs),
    maxUnackedPerMember: z.number().int().min(1).max(subscriptionLimits.maxUnackedPerMember),
    retryPolicy: z.object({
      maxAttempts: z.number().int().min(1).max(subscriptionLimits.maxAttempts),
      initialBackoffMs: count,
      multiplier: z.number().min(1),
      maxBackoffMs: count,
      jitter: jitters.schema,
      retryOrder: retryOrders.schema,
    }),
    deadLetterTopic: z.string().min(1),
    rateLimit: z.object({ recordsPerSecond: z.number().min(0), burst: count }),
    circuitBreaker: z.object({
      enabled: z.boolean(),
      failureRatio: z.number().gt(0).max(1),
      windowMs: count,
      minSettlements: count,
      cooldownMs: count,
      probeRecords: count,
    }),
  }),
});

/** The JSON value at `subscriptions/<topic>/<name>`. */
export type StoredSubscription = z.infer<typeof storedSubscriptionSchema>;

/** `subscription` as stored. */
export function toStoredSubscription(subscription: SubscriptionState): StoredSubscription {
  const { settings } = subscription;
  return {
    topic: subscription.topic,
    topicId: subscription.topicId,
    name: subscription.name,
    createdAtMs: subscription.createdAtMs,
    settings: {
      ...settings,
      mode: modes.name(settings.mode),
      startPosition: startPositions.name(settings.startPosition),
      retryPolicy: {
        ...settings.retryPolicy,
        jitter: jitters.name(settings.retryPolicy.jitter),
        retryOrder: retryOrders.name(settings.retryPolicy.retryOrder),
      },
      rateLimit: { ...settings.rateLimit },
      circuitBreaker: { ...settings.circuitBreaker },
    },
  };
}

/** Reads the value stored at `key`; throws naming the key when it is not a valid subscription. */
export function parseStoredSubscription(key: string, value: Buffer): SubscriptionState {
  const result = storedSubscriptionSchema.safeParse(parseJson(value));
  if (!result.success) throw new Error(`metadata store holds a corrupt ${key}: ${result.error.message}`);
  const stored = result.data;
  const { settings } = stored;
  return {
    topic: stored.topic,
    topicId: stored.topicId,
    name: stored.name,
    createdAtMs: stored.createdAtMs,
    settings: {
      ...settings,
      mode: modes.value(settings.mode),
      startPosition: startPositions.value(settings.startPosition),
      retryPolicy: {
        ...settings.retryPolicy,
        jitter: jitters.value(settings.retryPolicy.jitter),
        retryOrder: retryOrders.value(settings.retryPolicy.retryOrder),
      },
      rateLimit: { ...settings.rateLimit },
      circuitBreaker: { ...settings.circuitBreaker },
    },
  };
}
