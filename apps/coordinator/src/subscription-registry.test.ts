import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RetryOrder, StartPosition, SubscriptionConfig, SubscriptionMode } from '@braid/proto';
import { metadataKeys } from './metadata-keys.js';
import { buildCoordinatorParts, MemoryMetadataStore } from './testing.js';
import type { CoordinatorParts } from './testing.js';

/** A `SubscriptionConfig` with any field left out, as `fromPartial` takes it. */
type PartialConfig = Parameters<typeof SubscriptionConfig.fromPartial>[0];

const built: CoordinatorParts[] = [];

async function parts(store?: MemoryMetadataStore): Promise<CoordinatorParts> {
  const p = await buildCoordinatorParts(store ? { store } : {});
  built.push(p);
  return p;
}

afterEach(async () => {
  for (const p of built.splice(0)) await p.brokers.stop();
});

/** Parts with broker b1 live and the given topics created. */
async function withTopics(...names: string[]): Promise<CoordinatorParts> {
  const p = await parts();
  await p.brokers.register('b1', '127.0.0.1:9000');
  for (const name of names) await p.topics.create(name, undefined);
  return p;
}

const config = (partial: PartialConfig): SubscriptionConfig => SubscriptionConfig.fromPartial(partial);

describe('SubscriptionRegistry', () => {
  it('creates a subscription with defaults, stores it under subscriptions/<topic>/<name> and bumps the version', async () => {
    const { subscriptions, changes, store, clock, topics } = await withTopics('orders');
    await clock.advance(5000);
    const before = changes.version;
    const created = await subscriptions.create('orders', 'billing', config({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, ackTimeoutMs: 5000 }));
    expect(created).toMatchObject({
      topic: 'orders',
      topicId: topics.get('orders').id,
      name: 'billing',
      createdAtMs: clock.now(),
      settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, ackTimeoutMs: 5000, deadLetterTopic: 'orders.billing.dlq' },
    });
    expect(changes.version).toBe(before + 1);
    expect(store.json(metadataKeys.subscription('orders', 'billing'))).toEqual({
      topic: 'orders',
      topicId: 1,
      name: 'billing',
      createdAtMs: 1_700_000_005_000,
      settings: {
        mode: 'SUBSCRIPTION_MODE_SHARED',
        startPosition: 'START_POSITION_LATEST',
        startTimeMs: 0,
        ackTimeoutMs: 5000,
        maxUnackedPerMember: 1000,
        retryPolicy: { maxAttempts: 5, initialBackoffMs: 1000, multiplier: 2, maxBackoffMs: 60_000, jitter: 'JITTER_FULL', retryOrder: 'RETRY_ORDER_SKIP' },
        deadLetterTopic: 'orders.billing.dlq',
        rateLimit: { recordsPerSecond: 0, burst: 0 },
        circuitBreaker: { enabled: false, failureRatio: 0.5, windowMs: 10_000, minSettlements: 20, cooldownMs: 30_000, probeRecords: 5 },
      },
    });
    expect(subscriptions.get('orders', 'billing')).toEqual(created);
  });

  it('answers NOT_FOUND for an unknown topic and ALREADY_EXISTS for a duplicate, also when two creates race', async () => {
    const { subscriptions, changes } = await withTopics('orders');
    const version = changes.version;
    await expect(subscriptions.create('nope', 'billing', undefined)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
    expect(changes.version).toBe(version);
    const outcomes = await Promise.allSettled([subscriptions.create('orders', 'billing', undefined), subscriptions.create('orders', 'billing', undefined)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    await expect(subscriptions.create('orders', 'billing', undefined)).rejects.toMatchObject({
      code: Status.ALREADY_EXISTS,
      message: 'subscription "billing" on topic "orders" already exists',
    });
    expect(changes.version).toBe(version + 1);
  });

  it.each(['', '.', '..', 's'.repeat(250), 'has space', 'slash/name'])('rejects the subscription name %j with INVALID_ARGUMENT (INVALID_NAME)', async (name) => {
    const { subscriptions } = await withTopics('orders');
    await expect(subscriptions.create('orders', name, undefined)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'INVALID_NAME' });
    expect(() => subscriptions.get('orders', name)).toThrow(expect.objectContaining({ reason: 'INVALID_NAME' }) as Error);
  });

  it('writes nothing for a bad setting or a failed store commit', async () => {
    const { subscriptions, changes, store } = await withTopics('orders');
    const version = changes.version;
    await expect(subscriptions.create('orders', 'billing', config({ ackTimeoutMs: 1 }))).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    store.failNextCommit(new Error('disk full'));
    await expect(subscriptions.create('orders', 'billing', undefined)).rejects.toThrow('disk full');
    expect(subscriptions.list()).toEqual([]);
    expect(changes.version).toBe(version);
    expect(store.json(metadataKeys.subscription('orders', 'billing'))).toBeUndefined();
  });

  it('updates runtime settings (replacing them), keeps mode and start, and bumps the version only on a real change', async () => {
    const { subscriptions, changes, store } = await withTopics('orders');
    const created = await subscriptions.create(
      'orders',
      'billing',
      config({ mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST, maxUnackedPerMember: 10 }),
    );
    const version = changes.version;
    const updated = await subscriptions.update('orders', 'billing', config({ ackTimeoutMs: 60_000, rateLimit: { recordsPerSecond: 100 }, deadLetterTopic: 'parked' }));
    expect(updated).toEqual({
      ...created,
      settings: {
        ...created.settings,
        ackTimeoutMs: 60_000,
        maxUnackedPerMember: 1000, // not repeated in the update: back to the default
        rateLimit: { recordsPerSecond: 100, burst: 100 },
        deadLetterTopic: 'parked',
      },
    });
    expect(updated.settings.mode).toBe(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED);
    expect(updated.settings.retryPolicy.retryOrder).toBe(RetryOrder.RETRY_ORDER_BLOCK_KEY);
    expect(changes.version).toBe(version + 1);
    expect(store.json(metadataKeys.subscription('orders', 'billing'))).toMatchObject({ settings: { ackTimeoutMs: 60_000, deadLetterTopic: 'parked' } });
    expect(subscriptions.get('orders', 'billing')).toEqual(updated);

    const commits = store.commits;
    const same = await subscriptions.update('orders', 'billing', config({ ackTimeoutMs: 60_000, rateLimit: { recordsPerSecond: 100 }, deadLetterTopic: 'parked' }));
    expect(same).toEqual(updated);
    expect(changes.version).toBe(version + 1);
    expect(store.commits).toBe(commits);
  });

  it('refuses to change mode or start position (FAILED_PRECONDITION) and unknown names (NOT_FOUND)', async () => {
    const { subscriptions, changes } = await withTopics('orders');
    const created = await subscriptions.create('orders', 'billing', undefined);
    const version = changes.version;
    await expect(subscriptions.update('orders', 'billing', config({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED }))).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
      metadata: { field: 'config.mode' },
    });
    await expect(subscriptions.update('orders', 'billing', config({ startPosition: StartPosition.START_POSITION_EARLIEST }))).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
    });
    await expect(subscriptions.update('orders', 'nope', undefined)).rejects.toMatchObject({
      code: Status.NOT_FOUND,
      reason: 'SUBSCRIPTION_NOT_FOUND',
      message: 'subscription "nope" on topic "orders" does not exist',
    });
    await expect(subscriptions.update('gone', 'billing', undefined)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
    // Bad values are INVALID_ARGUMENT before the subscription is even looked up.
    await expect(subscriptions.update('orders', 'nope', config({ ackTimeoutMs: -1 }))).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(subscriptions.get('orders', 'billing')).toEqual(created);
    expect(changes.version).toBe(version);
  });

  it('deletes, lists by topic then name, and answers NOT_FOUND for unknown names', async () => {
    const { subscriptions, changes } = await withTopics('b', 'a', 'a.b');
    for (const [topic, name] of [['b', 'x'], ['a.b', 'y'], ['a', 'z'], ['a', 'Y'], ['a', 'm']] as const) await subscriptions.create(topic, name, undefined);
    // 'a' before 'a.b' (by topic name, not by store key, where '.' sorts before '/').
    expect(subscriptions.list().map((s) => `${s.topic}/${s.name}`)).toEqual(['a/Y', 'a/m', 'a/z', 'a.b/y', 'b/x']);
    expect(subscriptions.list('a').map((s) => s.name)).toEqual(['Y', 'm', 'z']);
    expect(subscriptions.list('b').map((s) => s.name)).toEqual(['x']);
    expect(() => subscriptions.list('c')).toThrow(expect.objectContaining({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' }) as Error);
    expect(() => subscriptions.list('..')).toThrow(expect.objectContaining({ code: Status.INVALID_ARGUMENT }) as Error);

    const version = changes.version;
    await subscriptions.delete('a', 'm');
    expect(changes.version).toBe(version + 1);
    expect(subscriptions.list('a').map((s) => s.name)).toEqual(['Y', 'z']);
    await expect(subscriptions.delete('a', 'm')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'SUBSCRIPTION_NOT_FOUND' });
    expect(() => subscriptions.get('a', 'm')).toThrow(expect.objectContaining({ reason: 'SUBSCRIPTION_NOT_FOUND' }) as Error);
    expect(() => subscriptions.get('c', 'm')).toThrow(expect.objectContaining({ reason: 'TOPIC_NOT_FOUND' }) as Error);
    // The name is free again.
    await subscriptions.create('a', 'm', undefined);
  });

  it('deletes a topic\'s subscriptions with the topic in one change; a topic created again starts with none', async () => {
    const { subscriptions, topics, changes, store } = await withTopics('orders', 'audit');
    await subscriptions.create('orders', 'billing', undefined);
    await subscriptions.create('orders', 'search', undefined);
    await subscriptions.create('audit', 'archive', undefined);
    const version = changes.version;
    const commits = store.commits;
    await topics.delete('orders');
    expect(changes.version).toBe(version + 1);
    expect(store.commits).toBe(commits + 1);
    expect([...store.data.keys()].filter((key) => key.startsWith('subscriptions/'))).toEqual(['subscriptions/audit/archive']);
    expect(subscriptions.list().map((s) => s.name)).toEqual(['archive']);
    expect(subscriptions.ofTopic('orders')).toEqual([]);

    const again = await topics.create('orders', undefined);
    expect(subscriptions.list('orders')).toEqual([]);
    expect((await subscriptions.create('orders', 'billing', undefined)).topicId).toBe(again.id);
  });

  it('keeps neither topic nor subscriptions when deleting the topic fails to commit', async () => {
    const { subscriptions, topics, store } = await withTopics('orders');
    await subscriptions.create('orders', 'billing', undefined);
    store.failNextCommit();
    await expect(topics.delete('orders')).rejects.toThrow('disk full');
    expect(topics.list().map((t) => t.name)).toEqual(['orders']);
    expect(subscriptions.list().map((s) => s.name)).toEqual(['billing']);
  });

  it('keeps subscriptions and their settings across a restart', async () => {
    const first = await withTopics('orders', 'audit');
    await first.subscriptions.create('orders', 'billing', config({ startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: 42, circuitBreaker: { enabled: true } }));
    await first.subscriptions.create('orders', 'search', config({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, rateLimit: { recordsPerSecond: 0.25 } }));
    await first.subscriptions.update('orders', 'search', config({ retryPolicy: { maxAttempts: 9, multiplier: 1.5 } }));
    await first.subscriptions.create('audit', 'archive', undefined);
    await first.subscriptions.delete('audit', 'archive');
    const before = first.subscriptions.list();
    await first.brokers.stop();

    const restarted = await parts(first.store);
    expect(restarted.subscriptions.list()).toEqual(before);
    expect(restarted.metadata.snapshot(['orders']).topics[0]?.subscriptions.map((s) => s.name)).toEqual(['billing', 'search']);
  });

  it('refuses to load a store where a subscription outlived its topic or is corrupt', async () => {
    const orphan = new MemoryMetadataStore();
    const first = await parts(orphan);
    await first.brokers.register('b1', '127.0.0.1:9000');
    await first.topics.create('orders', undefined);
    await first.subscriptions.create('orders', 'billing', undefined);
    // As if a buggy tool had removed the topic alone.
    orphan.data.delete(metadataKeys.topic('orders'));
    orphan.data.delete(metadataKeys.placement(1));
    await expect(parts(orphan)).rejects.toThrow(
      'metadata store is inconsistent: subscriptions/orders/billing belongs to topic id 1, but topics/orders does not exist',
    );

    const corrupt = new MemoryMetadataStore();
    corrupt.data.set(metadataKeys.subscription('orders', 'billing'), Buffer.from(JSON.stringify({ topic: 'orders', name: 'billing' })));
    await expect(parts(corrupt)).rejects.toThrow('metadata store holds a corrupt subscriptions/orders/billing');
  });
});
