import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Durability, PartitionStatus, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import { Admin } from './admin.js';
import { FakeBroker } from './testing.js';

let broker: FakeBroker;
let admin: Admin;

beforeAll(async () => {
  broker = await FakeBroker.start();
  admin = new Admin({ brokers: broker.address });
});

afterAll(() => {
  admin.close();
  broker.stop();
});

describe('Admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const created = await admin.createTopic('orders', { partitions: 3, durability: Durability.DURABILITY_WRITE });
    expect(created).toMatchObject({ name: 'orders', config: { partitions: 3, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 1048576 } });
    await admin.createTopic('audit');
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['audit', 'orders']);
    const described = await admin.describeTopic('orders');
    expect(described.partitions.map((p) => [p.partition, p.leaderAddress, p.status])).toEqual([
      [0, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
      [1, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
      [2, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
    ]);
    const metadata = await admin.getMetadata(['orders']);
    expect(metadata.topics.map((t) => t.topic?.name)).toEqual(['orders']);
    await admin.deleteTopic('audit');
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['orders']);
  });

  it('rejects with the server status as a BraidError', async () => {
    await admin.createTopic('dup');
    await expect(admin.createTopic('dup')).rejects.toMatchObject({ code: Status.ALREADY_EXISTS, retriable: false });
    await expect(admin.describeTopic('missing')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND', message: 'topic "missing" does not exist' });
    await expect(admin.createTopic('bad name')).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('tries the next address when one cannot be reached, and rejects UNAVAILABLE when none can', async () => {
    const down = await FakeBroker.start();
    const downAddress = down.address;
    down.stop();
    const failover = new Admin({ brokers: [downAddress, broker.address], timeoutMs: 3000 });
    await expect(failover.listTopics()).resolves.toEqual(expect.any(Array));
    failover.close();
    const nowhere = new Admin({ brokers: downAddress, timeoutMs: 3000 });
    await expect(nowhere.listTopics()).rejects.toMatchObject({ code: Status.UNAVAILABLE, retriable: true });
    nowhere.close();
  });

  it('creates, lists, describes, updates and deletes subscriptions', async () => {
    await admin.createTopic('events', { partitions: 2 });
    const created = await admin.createSubscription('events', 'search', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_EARLIEST,
      ackTimeoutMs: 5_000,
      retryPolicy: { maxAttempts: 3 },
    });
    expect(created).toMatchObject({
      topic: 'events',
      name: 'search',
      config: { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, ackTimeoutMs: 5_000, deadLetterTopic: 'events.search.dlq', retryPolicy: { maxAttempts: 3, retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY } },
    });
    await admin.createSubscription('events', 'analytics');
    expect((await admin.listSubscriptions('events')).map((s) => s.name)).toEqual(['analytics', 'search']);
    expect((await admin.listSubscriptions()).map((s) => `${s.topic}/${s.name}`)).toEqual(['events/analytics', 'events/search']);
    expect((await admin.getMetadata(['events'])).topics[0]?.subscriptions.map((s) => s.name)).toEqual(['analytics', 'search']);

    broker.publish('events', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }]);
    const described = await admin.describeSubscription('events', 'search');
    expect(described.partitions).toEqual([
      { partition: 0, committedOffset: 0, highWatermark: 2, lag: 2, unacked: 0, pendingRetries: 0 },
      { partition: 1, committedOffset: 0, highWatermark: 1, lag: 1, unacked: 0, pendingRetries: 0 },
    ]);
    expect(described.members).toEqual([]);

    const updated = await admin.updateSubscription('events', 'search', { ...described.subscription?.config, ackTimeoutMs: 9_000 });
    expect(updated.config?.ackTimeoutMs).toBe(9_000);
    await expect(admin.updateSubscription('events', 'search', { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED })).rejects.toMatchObject({
      code: Status.FAILED_PRECONDITION,
    });

    await admin.deleteSubscription('events', 'analytics');
    expect((await admin.listSubscriptions('events')).map((s) => s.name)).toEqual(['search']);
    await expect(admin.describeSubscription('events', 'analytics')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'SUBSCRIPTION_NOT_FOUND' });
    await expect(admin.createSubscription('events', 'search')).rejects.toMatchObject({ code: Status.ALREADY_EXISTS });
    await expect(admin.createSubscription('nope', 'x')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
  });

  it('seeks a subscription to offsets, a time, the start or the end', async () => {
    await admin.createTopic('seekable', { partitions: 2 });
    await admin.createSubscription('seekable', 'sub');
    broker.publish('seekable', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }]);
    expect(await admin.seek('seekable', 'sub', { earliest: true })).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
    ]);
    expect(await admin.seek('seekable', 'sub', { latest: true })).toEqual([
      { partition: 0, offset: 2 },
      { partition: 1, offset: 1 },
    ]);
    expect(await admin.seek('seekable', 'sub', { offsets: [{ partition: 0, offset: 1 }] })).toEqual([{ partition: 0, offset: 1 }]);
    const described = await admin.describeSubscription('seekable', 'sub');
    expect(described.partitions.map((p) => p.committedOffset)).toEqual([1, 1]);
    expect(await admin.seek('seekable', 'sub', { timestamp: new Date(0) })).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
    ]);
    await expect(admin.seek('seekable', 'sub', { offsets: [{ partition: 5, offset: 0 }] })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(admin.seek('seekable', 'sub', { timestamp: Number.NaN })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('describes the broker it asks: id, address, memory and Subscribe stream buffers', async () => {
    const described = await admin.describeBroker();
    expect(described).toMatchObject({ brokerId: 'fake-1', address: broker.address, consume: { subscribeStreams: 0, queuedMessages: 0, queuedBytes: 0 } });
    expect(described.memory?.heapUsedBytes).toBeGreaterThan(0);
    expect(described.memory?.rssBytes).toBeGreaterThan(described.memory?.heapUsedBytes ?? 0);
  });

  it('reads records of a partition without a subscription, paging with nextOffset', async () => {
    await admin.createTopic('readable', { partitions: 2 });
    broker.publish('readable', [
      { key: 'k', value: 'a', headers: { h: '1' }, partition: 1 },
      { value: 'b', partition: 1 },
      { value: 'c', partition: 1 },
    ]);
    const first = await admin.readRecords('readable', 1, { maxRecords: 2 });
    expect(first).toMatchObject({ nextOffset: 2, highWatermark: 3, logStartOffset: 0 });
    expect(first.records.map((r) => [r.topic, r.partition, r.offset, r.key?.toString(), r.value.toString(), r.headers])).toEqual([
      ['readable', 1, 0, 'k', 'a', { h: '1' }],
      ['readable', 1, 1, undefined, 'b', {}],
    ]);
    const rest = await admin.readRecords('readable', 1, { fromOffset: first.nextOffset });
    expect(rest.records.map((r) => r.value.toString())).toEqual(['c']);
    expect((await admin.readRecords('readable', 0)).records).toEqual([]);
    await expect(admin.readRecords('readable', 2)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'PARTITION_OUT_OF_RANGE' });
    await expect(admin.readRecords('unknown', 0)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
  });

  it('follows a NOT_LEADER answer of readRecords to the leader it names', async () => {
    const leader = await FakeBroker.start();
    try {
      leader.createTopic('moved');
      leader.publish('moved', [{ value: 'on the leader' }]);
      await admin.createTopic('moved');
      broker.setLeader('moved', 0, leader.address);
      const response = await admin.readRecords('moved', 0);
      expect(response.records.map((r) => r.value.toString())).toEqual(['on the leader']);
      // A leader that points back is not followed forever.
      leader.setLeader('moved', 0, broker.address);
      await expect(admin.readRecords('moved', 0)).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'NOT_LEADER' });
    } finally {
      leader.stop();
    }
  });

  it('needs at least one address', () => {
    expect(() => new Admin({ brokers: ' , ' })).toThrow(/at least one broker/);
  });
});
