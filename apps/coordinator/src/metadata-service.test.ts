import { EventEmitter } from 'node:events';
import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { PartitionStatus, SubscriptionConfig, SubscriptionMode, TopicConfig } from '@braid/proto';
import type { GetMetadataResponse, WatchMetadataRequest, WatchMetadataResponse } from '@braid/proto';
import type { WatchStream } from './metadata-service.js';
import { buildCoordinatorParts } from './testing.js';
import type { CoordinatorParts } from './testing.js';

const built: CoordinatorParts[] = [];

async function parts(): Promise<CoordinatorParts> {
  const p = await buildCoordinatorParts({ leaseTtlMs: 1000, checkIntervalMs: 100 });
  built.push(p);
  return p;
}

afterEach(async () => {
  for (const p of built.splice(0)) {
    p.metadata.close();
    await p.brokers.stop();
  }
});

/** A server stream stand-in whose `write()` result the test controls. */
class FakeWatchStream extends EventEmitter implements WatchStream {
  readonly request: WatchMetadataRequest = { brokerId: 'b1' };
  readonly received: GetMetadataResponse[] = [];
  /** What `write()` returns (false: the client is not reading). */
  accepting = true;

  write(message: WatchMetadataResponse): boolean {
    if (message.metadata) this.received.push(message.metadata);
    return this.accepting;
  }

  /** Resolves once `count` messages have arrived. */
  async waitFor(count: number): Promise<void> {
    while (this.received.length < count) await new Promise((resolve) => setImmediate(resolve));
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('MetadataService.snapshot', () => {
  it('reports brokers, topics with leaders and status, and the version', async () => {
    const p = await parts();
    await p.brokers.register('b2', '127.0.0.1:7402');
    await p.brokers.register('b1', '127.0.0.1:7401');
    await p.topics.create('orders', TopicConfig.fromPartial({ partitions: 8 }));
    await p.topics.create('audit', undefined);
    const snapshot = p.metadata.snapshot();
    expect(snapshot.version).toBe(p.changes.version);
    expect(snapshot.brokers.map((b) => [b.brokerId, b.address, b.live])).toEqual([
      ['b1', '127.0.0.1:7401', true],
      ['b2', '127.0.0.1:7402', true],
    ]);
    expect(snapshot.topics.map((t) => t.topic?.name)).toEqual(['audit', 'orders']);
    const orders = snapshot.topics[1];
    expect(orders?.topic).toMatchObject({ name: 'orders', id: 1, config: { partitions: 8, maxRecordBytes: 1_048_576 } });
    const placement = p.topics.get('orders').partitions;
    expect(orders?.partitions).toEqual(
      placement.map((a, partition) => ({
        partition,
        leaderId: a.leaderId,
        leaderAddress: a.leaderId === 'b1' ? '127.0.0.1:7401' : '127.0.0.1:7402',
        // Each registration starts a new epoch: b2 registered first.
        leaderEpoch: a.leaderId === 'b1' ? 2 : 1,
        status: PartitionStatus.PARTITION_STATUS_AVAILABLE,
        highWatermark: 0,
        logStartOffset: 0,
        sizeBytes: 0,
      })),
    );
  });

  it('marks the partitions of an expired leader unavailable without moving them', async () => {
    const p = await parts();
    const b1 = await p.brokers.register('b1', '127.0.0.1:7401');
    await p.brokers.register('b2', '127.0.0.1:7402');
    await p.topics.create('orders', TopicConfig.fromPartial({ partitions: 16 }));
    const before = p.metadata.snapshot();
    for (let i = 0; i < 4; i++) {
      await p.clock.advance(400);
      p.brokers.heartbeat('b1', b1.leaseId);
    }
    const after = p.metadata.snapshot();
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.brokers.find((b) => b.brokerId === 'b2')?.live).toBe(false);
    const partitions = after.topics[0]?.partitions ?? [];
    expect(partitions.map((x) => x.leaderId)).toEqual(before.topics[0]?.partitions.map((x) => x.leaderId));
    for (const partition of partitions) {
      expect(partition.status, `partition ${partition.partition}`).toBe(
        partition.leaderId === 'b1' ? PartitionStatus.PARTITION_STATUS_AVAILABLE : PartitionStatus.PARTITION_STATUS_UNAVAILABLE,
      );
      expect(partition.leaderAddress).not.toBe('');
    }
  });

  it('returns asked-for topics in the order asked, once each; NOT_FOUND or INVALID_ARGUMENT otherwise', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    for (const name of ['a', 'b', 'c']) await p.topics.create(name, undefined);
    expect(p.metadata.snapshot(['c', 'a', 'c']).topics.map((t) => t.topic?.name)).toEqual(['c', 'a']);
    expect(() => p.metadata.snapshot(['a', 'nope'])).toThrow(expect.objectContaining({ code: Status.NOT_FOUND }) as Error);
    expect(() => p.metadata.snapshot(['..'])).toThrow(expect.objectContaining({ code: Status.INVALID_ARGUMENT }) as Error);
    expect(p.metadata.describeTopic('b')).toMatchObject({ topic: { name: 'b' }, partitions: [{ partition: 0, leaderId: 'b1' }] });
  });
});

describe('MetadataService subscriptions', () => {
  it('lists each topic\'s subscriptions by name, with their settings, in every snapshot', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    await p.topics.create('orders', undefined);
    await p.topics.create('audit', undefined);
    await p.subscriptions.create('orders', 'search', SubscriptionConfig.fromPartial({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED }));
    await p.subscriptions.create('orders', 'billing', undefined);
    const snapshot = p.metadata.snapshot();
    expect(snapshot.topics.map((t) => [t.topic?.name, t.subscriptions.map((s) => s.name)])).toEqual([
      ['audit', []],
      ['orders', ['billing', 'search']],
    ]);
    const search = snapshot.topics[1]?.subscriptions[1];
    expect(search).toMatchObject({
      topic: 'orders',
      name: 'search',
      createdAtMs: p.clock.now(),
      config: { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, ackTimeoutMs: 30_000, deadLetterTopic: 'orders.search.dlq', retryPolicy: { maxAttempts: 5 } },
    });
    expect(p.metadata.snapshot(['orders']).topics[0]?.subscriptions).toEqual(snapshot.topics[1]?.subscriptions);
  });

  it('sends a watch event for every subscription created, updated or deleted', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    await p.topics.create('orders', undefined);
    const stream = new FakeWatchStream();
    const watching = p.metadata.watch(stream);
    await stream.waitFor(1);
    const subscriptionsIn = (m: GetMetadataResponse | undefined): unknown[] =>
      m?.topics[0]?.subscriptions.map((s) => [s.name, s.config?.ackTimeoutMs]) ?? [];

    await p.subscriptions.create('orders', 'billing', undefined);
    await stream.waitFor(2);
    expect(subscriptionsIn(stream.received[1])).toEqual([['billing', 30_000]]);
    await p.subscriptions.update('orders', 'billing', SubscriptionConfig.fromPartial({ ackTimeoutMs: 1000 }));
    await stream.waitFor(3);
    expect(subscriptionsIn(stream.received[2])).toEqual([['billing', 1000]]);
    await p.subscriptions.delete('orders', 'billing');
    await stream.waitFor(4);
    expect(subscriptionsIn(stream.received[3])).toEqual([]);
    expect(stream.received.map((m) => m.version)).toEqual([...stream.received.map((m) => m.version)].sort((a, b) => a - b));
    stream.emit('cancelled');
    await watching;
  });
});

describe('MetadataService.watch', () => {
  it('sends the metadata at once and again after every change; cleans up on cancel', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    const stream = new FakeWatchStream();
    const watching = p.metadata.watch(stream);
    await stream.waitFor(1);
    expect(stream.received[0]?.version).toBe(p.changes.version);
    expect(p.metadata.watcherCount).toBe(1);

    await p.topics.create('orders', undefined);
    await stream.waitFor(2);
    expect(stream.received[1]?.topics.map((t) => t.topic?.name)).toEqual(['orders']);
    expect(stream.received[1]?.version).toBeGreaterThan(stream.received[0]?.version ?? Infinity);

    await p.clock.advance(1100); // lease expiry is a change too
    await stream.waitFor(3);
    expect(stream.received[2]?.brokers[0]?.live).toBe(false);

    stream.emit('cancelled');
    await watching;
    expect(p.metadata.watcherCount).toBe(0);
    expect(p.changes.listenerCount).toBe(0);
    await p.topics.create('more', undefined).catch(() => undefined);
    expect(stream.received).toHaveLength(3);
  });

  it('waits for drain when write() returns false and then sends only the latest metadata', async () => {
    const p = await parts();
    await p.brokers.register('b1', '127.0.0.1:7401');
    const stream = new FakeWatchStream();
    stream.accepting = false;
    const watching = p.metadata.watch(stream);
    await stream.waitFor(1);
    for (const name of ['a', 'b', 'c']) await p.topics.create(name, undefined);
    await settle();
    expect(stream.received).toHaveLength(1); // nothing written while the client is not reading
    stream.accepting = true;
    stream.emit('drain');
    await stream.waitFor(2);
    await settle();
    expect(stream.received).toHaveLength(2);
    expect(stream.received[1]?.version).toBe(p.changes.version);
    expect(stream.received[1]?.topics.map((t) => t.topic?.name)).toEqual(['a', 'b', 'c']);
    expect(stream.listenerCount('drain')).toBe(0);
    stream.emit('cancelled');
    await watching;
  });

  it('ends open watches with UNAVAILABLE (SHUTTING_DOWN) on close and refuses new ones', async () => {
    const p = await parts();
    const stream = new FakeWatchStream();
    stream.accepting = false; // also while waiting for drain
    const watching = p.metadata.watch(stream);
    await stream.waitFor(1);
    p.metadata.close();
    await expect(watching).rejects.toMatchObject({ code: Status.UNAVAILABLE, reason: 'SHUTTING_DOWN' });
    expect(p.metadata.watcherCount).toBe(0);
    expect(stream.listenerCount('cancelled')).toBe(0);
    await expect(p.metadata.watch(new FakeWatchStream())).rejects.toMatchObject({ reason: 'SHUTTING_DOWN' });
  });
});
