import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CircuitState,
  CreateSubscriptionRequest,
  CreateTopicRequest,
  Jitter,
  RetryOrder,
  SeekRequest,
  StartPosition,
  SubscriptionMode,
  UpdateSubscriptionRequest,
} from '@braid/proto';
import type { SubscriptionConfig } from '@braid/proto';
import { startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { MetadataWatch, connect, registerBroker, rpc, rpcError } from './clients.js';
import type { CoordinatorClients } from './clients.js';

/** A `SubscriptionConfig` with any field left out, as `fromPartial` takes it. */
type PartialConfig = Parameters<typeof SubscriptionConfig.fromPartial>[0];

let coordinator: AppProcess;
let dataDir: string;
let clients: CoordinatorClients;

const admin = (): CoordinatorClients['admin'] => clients.admin;
const createTopic = (name: string) => rpc(admin().createTopic.bind(admin()), CreateTopicRequest.fromPartial({ name, config: { partitions: 3 } }));
const deleteTopic = (name: string) => rpc(admin().deleteTopic.bind(admin()), { name });
const createSubscription = (topic: string, name: string, config?: PartialConfig) =>
  rpc(admin().createSubscription.bind(admin()), CreateSubscriptionRequest.fromPartial({ topic, name, ...(config ? { config } : {}) }));
const updateSubscription = (topic: string, name: string, config?: PartialConfig) =>
  rpc(admin().updateSubscription.bind(admin()), UpdateSubscriptionRequest.fromPartial({ topic, name, ...(config ? { config } : {}) }));
const deleteSubscription = (topic: string, name: string) => rpc(admin().deleteSubscription.bind(admin()), { topic, name });
const describeSubscription = (topic: string, name: string) => rpc(admin().describeSubscription.bind(admin()), { topic, name });
const listSubscriptions = (topic = '') => rpc(admin().listSubscriptions.bind(admin()), { topic });
const getMetadata = (topics: string[] = []) => rpc(admin().getMetadata.bind(admin()), { topics });
const seek = () => rpc(admin().seek.bind(admin()), SeekRequest.fromPartial({ topic: 'orders', name: 'billing', target: { $case: 'earliest', value: true } }));
const names = async (topic = ''): Promise<string[]> => (await listSubscriptions(topic)).subscriptions.map((s) => `${s.topic}/${s.name}`);

/** The settings of a subscription created with an empty config, as the coordinator reports them. */
function defaultConfig(topic: string, name: string): SubscriptionConfig {
  return {
    mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
    startPosition: StartPosition.START_POSITION_LATEST,
    startTimeMs: 0,
    ackTimeoutMs: 30_000,
    maxUnackedPerMember: 1000,
    retryPolicy: { maxAttempts: 5, initialBackoffMs: 1000, multiplier: 2, maxBackoffMs: 60_000, jitter: Jitter.JITTER_FULL, retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY },
    deadLetterTopic: `${topic}.${name}.dlq`,
    rateLimit: { recordsPerSecond: 0, burst: 0 },
    circuitBreaker: { enabled: false, failureRatio: 0.5, windowMs: 10_000, minSettlements: 20, cooldownMs: 30_000, probeRecords: 5 },
  };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-subscriptions-'));
  // A lease longer than the test, so the fake broker stays live without heartbeats.
  coordinator = await startApp('coordinator', { args: ['--data-dir', dataDir, '--broker-lease-ms', '600000'] });
  clients = connect(coordinator.address);
  await registerBroker(clients, 'b1', '127.0.0.1:17401');
  await createTopic('orders');
  // The subscription the failed updates below aim at; it must stay as created.
  await createSubscription('orders', 'fixed');
});

afterAll(async () => {
  clients.close();
  await coordinator.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('subscriptions through AdminService', () => {
  it('creates, lists, describes, updates and deletes subscriptions', async () => {
    await createTopic('payments');
    const started = Date.now();
    const billing = await createSubscription('payments', 'billing', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_EARLIEST,
      ackTimeoutMs: 5000,
      retryPolicy: { maxAttempts: 3, jitter: Jitter.JITTER_EQUAL },
      rateLimit: { recordsPerSecond: 100 },
    });
    expect(billing.subscription).toEqual({
      topic: 'payments',
      name: 'billing',
      createdAtMs: billing.subscription?.createdAtMs,
      config: {
        ...defaultConfig('payments', 'billing'),
        mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
        startPosition: StartPosition.START_POSITION_EARLIEST,
        ackTimeoutMs: 5000,
        retryPolicy: { ...defaultConfig('payments', 'billing').retryPolicy, maxAttempts: 3, jitter: Jitter.JITTER_EQUAL },
        rateLimit: { recordsPerSecond: 100, burst: 100 },
      },
    });
    expect(billing.subscription?.createdAtMs).toBeGreaterThanOrEqual(started - 1000);
    expect(billing.subscription?.createdAtMs).toBeLessThanOrEqual(Date.now());
    const search = await createSubscription('payments', 'search');
    expect(search.subscription?.config).toEqual(defaultConfig('payments', 'search'));
    const audit = await createSubscription('payments', 'audit', { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, circuitBreaker: { enabled: true } });
    expect(audit.subscription?.config?.retryPolicy?.retryOrder).toBe(RetryOrder.RETRY_ORDER_SKIP);

    expect(await names('payments')).toEqual(['payments/audit', 'payments/billing', 'payments/search']);
    expect(await names()).toEqual(expect.arrayContaining(['payments/audit', 'payments/billing', 'payments/search']));

    const described = await describeSubscription('payments', 'billing');
    expect(described).toEqual({ subscription: billing.subscription, partitions: [], members: [], circuitState: CircuitState.CIRCUIT_STATE_UNSPECIFIED });
    expect((await describeSubscription('payments', 'audit')).circuitState).toBe(CircuitState.CIRCUIT_STATE_CLOSED);

    // The update replaces the runtime settings; mode and start position stay.
    const updated = await updateSubscription('payments', 'billing', { ackTimeoutMs: 60_000, maxUnackedPerMember: 10, deadLetterTopic: 'payments-parked' });
    expect(updated.subscription).toEqual({
      ...billing.subscription,
      config: {
        ...defaultConfig('payments', 'billing'),
        mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
        startPosition: StartPosition.START_POSITION_EARLIEST,
        ackTimeoutMs: 60_000,
        maxUnackedPerMember: 10,
        deadLetterTopic: 'payments-parked',
      },
    });
    expect((await describeSubscription('payments', 'billing')).subscription).toEqual(updated.subscription);

    await deleteSubscription('payments', 'search');
    expect(await names('payments')).toEqual(['payments/audit', 'payments/billing']);
    expect((await rpcError(describeSubscription('payments', 'search'))).code).toBe(Status.NOT_FOUND);
    // The name is free again, with fresh settings.
    expect((await createSubscription('payments', 'search', { ackTimeoutMs: 1000 })).subscription?.config?.ackTimeoutMs).toBe(1000);
  });

  it.each([
    ['create on an unknown topic', () => createSubscription('nope', 's'), Status.NOT_FOUND, 'topic "nope" does not exist'],
    ['a duplicate create', async () => { await createSubscription('orders', 'dup'); return createSubscription('orders', 'dup'); }, Status.ALREADY_EXISTS, 'subscription "dup" on topic "orders" already exists'],
    ['an empty subscription name', () => createSubscription('orders', ''), Status.INVALID_ARGUMENT, 'invalid subscription name "": must not be empty'],
    ['subscription name ".."', () => createSubscription('orders', '..'), Status.INVALID_ARGUMENT, 'must not be "." or ".."'],
    ['a 250-character subscription name', () => createSubscription('orders', 's'.repeat(250)), Status.INVALID_ARGUMENT, 'at most 249 characters (got 250)'],
    ['a subscription name with a slash', () => createSubscription('orders', 'a/b'), Status.INVALID_ARGUMENT, 'may only contain'],
    ['a bad topic name', () => createSubscription('my topic', 's'), Status.INVALID_ARGUMENT, 'invalid topic name'],
    ['an unknown mode', () => createSubscription('orders', 's', { mode: SubscriptionMode.UNRECOGNIZED }), Status.INVALID_ARGUMENT, 'config.mode is not a known SubscriptionMode'],
    ['an unknown start position', () => createSubscription('orders', 's', { startPosition: StartPosition.UNRECOGNIZED }), Status.INVALID_ARGUMENT, 'config.start_position is not a known StartPosition'],
    ['TIMESTAMP without start_time_ms', () => createSubscription('orders', 's', { startPosition: StartPosition.START_POSITION_TIMESTAMP }), Status.INVALID_ARGUMENT, 'config.start_time_ms is required with START_POSITION_TIMESTAMP'],
    ['start_time_ms without TIMESTAMP', () => createSubscription('orders', 's', { startTimeMs: 5 }), Status.INVALID_ARGUMENT, 'config.start_time_ms is only used with START_POSITION_TIMESTAMP'],
    ['a negative start_time_ms', () => createSubscription('orders', 's', { startPosition: StartPosition.START_POSITION_TIMESTAMP, startTimeMs: -1 }), Status.INVALID_ARGUMENT, 'config.start_time_ms must be a time in Unix ms (not negative) (got -1)'],
    ['a negative ack_timeout_ms', () => createSubscription('orders', 's', { ackTimeoutMs: -1 }), Status.INVALID_ARGUMENT, 'config.ack_timeout_ms must be between 100 and 43200000, or 0 for the default 30000 (got -1)'],
    ['ack_timeout_ms under 100 ms', () => createSubscription('orders', 's', { ackTimeoutMs: 99 }), Status.INVALID_ARGUMENT, 'config.ack_timeout_ms must be between 100 and 43200000'],
    ['ack_timeout_ms over 12 h', () => createSubscription('orders', 's', { ackTimeoutMs: 43_200_001 }), Status.INVALID_ARGUMENT, '(got 43200001)'],
    ['a negative max_unacked_per_member', () => createSubscription('orders', 's', { maxUnackedPerMember: -1 }), Status.INVALID_ARGUMENT, 'config.max_unacked_per_member must be between 1 and 100000'],
    ['max_unacked_per_member over 100000', () => createSubscription('orders', 's', { maxUnackedPerMember: 100_001 }), Status.INVALID_ARGUMENT, '(got 100001)'],
    ['max_attempts over 1000', () => createSubscription('orders', 's', { retryPolicy: { maxAttempts: 1001 } }), Status.INVALID_ARGUMENT, 'config.retry_policy.max_attempts must be between 1 and 1000'],
    ['a negative max_attempts', () => createSubscription('orders', 's', { retryPolicy: { maxAttempts: -3 } }), Status.INVALID_ARGUMENT, 'config.retry_policy.max_attempts'],
    ['a multiplier below 1', () => createSubscription('orders', 's', { retryPolicy: { multiplier: 0.5 } }), Status.INVALID_ARGUMENT, 'config.retry_policy.multiplier must be a finite number of at least 1'],
    ['a NaN multiplier', () => createSubscription('orders', 's', { retryPolicy: { multiplier: Number.NaN } }), Status.INVALID_ARGUMENT, '(got NaN)'],
    ['a negative initial backoff', () => createSubscription('orders', 's', { retryPolicy: { initialBackoffMs: -1 } }), Status.INVALID_ARGUMENT, 'config.retry_policy.initial_backoff_ms must be a non-negative integer'],
    ['initial backoff above max backoff', () => createSubscription('orders', 's', { retryPolicy: { initialBackoffMs: 2000, maxBackoffMs: 1000 } }), Status.INVALID_ARGUMENT, 'config.retry_policy.initial_backoff_ms (2000) must not exceed config.retry_policy.max_backoff_ms (1000)'],
    ['an unknown jitter', () => createSubscription('orders', 's', { retryPolicy: { jitter: Jitter.UNRECOGNIZED } }), Status.INVALID_ARGUMENT, 'config.retry_policy.jitter is not a known Jitter'],
    ['an unknown retry order', () => createSubscription('orders', 's', { retryPolicy: { retryOrder: RetryOrder.UNRECOGNIZED } }), Status.INVALID_ARGUMENT, 'config.retry_policy.retry_order is not a known RetryOrder'],
    ['a negative rate limit', () => createSubscription('orders', 's', { rateLimit: { recordsPerSecond: -1 } }), Status.INVALID_ARGUMENT, 'config.rate_limit.records_per_second must be between 0 (unlimited)'],
    ['a negative burst', () => createSubscription('orders', 's', { rateLimit: { recordsPerSecond: 5, burst: -1 } }), Status.INVALID_ARGUMENT, 'config.rate_limit.burst must be a non-negative integer'],
    ['a burst without a rate', () => createSubscription('orders', 's', { rateLimit: { burst: 5 } }), Status.INVALID_ARGUMENT, 'config.rate_limit.burst needs config.rate_limit.records_per_second above 0'],
    ['a failure ratio above 1', () => createSubscription('orders', 's', { circuitBreaker: { enabled: true, failureRatio: 1.5 } }), Status.INVALID_ARGUMENT, 'config.circuit_breaker.failure_ratio must be in (0, 1]'],
    ['a negative failure ratio', () => createSubscription('orders', 's', { circuitBreaker: { failureRatio: -0.5 } }), Status.INVALID_ARGUMENT, 'config.circuit_breaker.failure_ratio'],
    ['a negative breaker window', () => createSubscription('orders', 's', { circuitBreaker: { windowMs: -1 } }), Status.INVALID_ARGUMENT, 'config.circuit_breaker.window_ms must be a non-negative integer'],
    ['a default dead-letter topic over 249 characters', () => createSubscription('t'.repeat(240), 'sub-5'), Status.INVALID_ARGUMENT, 'would be 250 characters, over the 249 allowed for a topic name: use a subscription name of at most 4 characters on this topic, or set config.dead_letter_topic'],
    ['an invalid dead-letter topic', () => createSubscription('orders', 's', { deadLetterTopic: 'dead letters' }), Status.INVALID_ARGUMENT, 'config.dead_letter_topic must be a valid topic name'],
    ['the own topic as dead-letter topic', () => createSubscription('orders', 's', { deadLetterTopic: 'orders' }), Status.INVALID_ARGUMENT, 'config.dead_letter_topic must not be the subscription\'s own topic'],
    ['an update of the mode', () => updateSubscription('orders', 'fixed', { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED }), Status.FAILED_PRECONDITION, 'config.mode cannot change after creation: it is SUBSCRIPTION_MODE_PARTITIONED (got SUBSCRIPTION_MODE_SHARED)'],
    ['an update of the start position', () => updateSubscription('orders', 'fixed', { startPosition: StartPosition.START_POSITION_EARLIEST }), Status.FAILED_PRECONDITION, 'config.start_position cannot change after creation'],
    ['an update with a bad value', () => updateSubscription('orders', 'fixed', { maxUnackedPerMember: 200_000 }), Status.INVALID_ARGUMENT, 'config.max_unacked_per_member'],
    ['an update of an unknown subscription', () => updateSubscription('orders', 'nope'), Status.NOT_FOUND, 'subscription "nope" on topic "orders" does not exist'],
    ['an update on an unknown topic', () => updateSubscription('nope', 'fixed'), Status.NOT_FOUND, 'topic "nope" does not exist'],
    ['delete of an unknown subscription', () => deleteSubscription('orders', 'nope'), Status.NOT_FOUND, 'subscription "nope" on topic "orders" does not exist'],
    ['describe of an unknown subscription', () => describeSubscription('orders', 'nope'), Status.NOT_FOUND, 'subscription "nope" on topic "orders" does not exist'],
    ['describe with a bad name', () => describeSubscription('orders', '.'), Status.INVALID_ARGUMENT, 'must not be "." or ".."'],
    ['list of an unknown topic', () => listSubscriptions('nope'), Status.NOT_FOUND, 'topic "nope" does not exist'],
    ['list with a bad topic name', () => listSubscriptions('..'), Status.INVALID_ARGUMENT, 'invalid topic name'],
    ['Seek', seek, Status.UNIMPLEMENTED, 'not served by the coordinator'],
  ] as const)('answers %s with its status and a precise message; the connection then serves a good request', async (_what, call, code, message) => {
    const before = await names('orders');
    const error = await rpcError(call());
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    // Same client, same channel: still serving, and nothing half-done.
    const after = await names('orders');
    expect(after.filter((n) => !n.endsWith('/dup'))).toEqual(before.filter((n) => !n.endsWith('/dup')));
    expect((await describeSubscription('orders', 'fixed')).subscription?.config).toEqual(defaultConfig('orders', 'fixed'));
    expect(coordinator.alive).toBe(true);
  });

  it('carries each topic\'s subscriptions in GetMetadata and in WatchMetadata events', async () => {
    await createTopic('watched');
    const watch = new MetadataWatch(clients, 'watcher');
    try {
      const first = await watch.find(() => true, 'the initial metadata');
      const subscriptionsOf = (m: typeof first, topic: string): unknown[] | undefined =>
        m.topics.find((t) => t.topic?.name === topic)?.subscriptions.map((s) => [s.name, s.config?.ackTimeoutMs]);
      expect(subscriptionsOf(first, 'watched')).toEqual([]);

      const created = await createSubscription('watched', 'indexer', { ackTimeoutMs: 2000 });
      const afterCreate = await watch.find((m) => subscriptionsOf(m, 'watched')?.length === 1, 'the creation event');
      expect(afterCreate.version).toBeGreaterThan(first.version);
      expect(afterCreate.topics.find((t) => t.topic?.name === 'watched')?.subscriptions).toEqual([created.subscription]);

      await updateSubscription('watched', 'indexer', { ackTimeoutMs: 9000 });
      const afterUpdate = await watch.find((m) => subscriptionsOf(m, 'watched')?.[0]?.toString() === 'indexer,9000', 'the update event');
      expect(afterUpdate.version).toBeGreaterThan(afterCreate.version);

      const metadata = await getMetadata(['watched']);
      expect(metadata.topics[0]?.subscriptions.map((s) => [s.name, s.config?.ackTimeoutMs])).toEqual([['indexer', 9000]]);
      expect(metadata.version).toBeGreaterThanOrEqual(afterUpdate.version);

      await deleteSubscription('watched', 'indexer');
      const afterDelete = await watch.find((m) => m.version > afterUpdate.version && subscriptionsOf(m, 'watched')?.length === 0, 'the deletion event');
      expect(afterDelete.version).toBeGreaterThan(afterUpdate.version);
    } finally {
      watch.call.cancel();
    }
  });

  it('deletes a topic\'s subscriptions with the topic; a topic created again starts with none', async () => {
    await createTopic('short-lived');
    await createSubscription('short-lived', 'a');
    await createSubscription('short-lived', 'b');
    await deleteTopic('short-lived');
    expect((await names()).filter((n) => n.startsWith('short-lived/'))).toEqual([]);
    expect((await rpcError(listSubscriptions('short-lived'))).code).toBe(Status.NOT_FOUND);
    expect((await rpcError(describeSubscription('short-lived', 'a'))).code).toBe(Status.NOT_FOUND);

    await createTopic('short-lived');
    expect(await names('short-lived')).toEqual([]);
    expect((await getMetadata(['short-lived'])).topics[0]?.subscriptions).toEqual([]);
    await createSubscription('short-lived', 'a');
    expect(await names('short-lived')).toEqual(['short-lived/a']);
  });
});
