// The consume path end to end on a real broker: fanout, credit, acks,
// ordering, lease expiry and restarts.
import { describe, expect, it } from 'vitest';
import { Jitter, NoticeType, StartPosition, SubscriptionMode } from '@braid/proto';
import type { Delivery } from '@braid/proto';
import { createSubscription, createTopic, publish } from './grpc-helpers.js';
import { useLocalCluster } from './cluster-fixture.js';
import { Status, SubscribeClient } from './subscribe-client.js';


const t = useLocalCluster();


async function publishKeyed(topic: string, count: number, keys: number): Promise<void> {
  const records = Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i % keys}`), value: Buffer.from(`v${i}`), headers: {} }));
  for (let i = 0; i < records.length; i += 500) await publish(t.api.producer, { topic, records: records.slice(i, i + 500) });
}

const valueOf = (d: Delivery): string => Buffer.from(d.record?.value ?? []).toString();

describe('consume path', () => {
  it('delivers every record to every subscription (fanout), in order per partition', async () => {
    await createTopic(t.api.admin, 'fan', { partitions: 4 });
    await publishKeyed('fan', 20_000, 50);
    const subs = ['push', 'search', 'analytics'].map((name) => {
      const client = new SubscribeClient(t.consumers, true);
      client.open('fan', name, { credit: 50_000 });
      return client;
    });
    for (const client of subs) {
      await client.waitFor(20_000, 60_000);
      expect(client.deliveries).toHaveLength(20_000);
      const byPartition = new Map<number, number[]>();
      for (const d of client.deliveries) {
        const list = byPartition.get(d.record?.partition ?? -1) ?? [];
        list.push(d.record?.offset ?? -1);
        byPartition.set(d.record?.partition ?? -1, list);
        expect(d.attempt).toBe(1);
      }
      for (const offsets of byPartition.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
      expect(new Set(client.deliveries.map(valueOf)).size).toBe(20_000);
      client.end();
    }
  });

  it('never sends beyond the credit granted', async () => {
    await createTopic(t.api.admin, 'credit', { partitions: 2 });
    await publishKeyed('credit', 100, 10);
    const client = new SubscribeClient(t.consumers);
    client.open('credit', 'c1', { credit: 10 });
    await client.waitFor(10);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(client.deliveries).toHaveLength(10);
    client.ack(client.deliveries);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Acks free the unsettled slots but grant no credit.
    expect(client.deliveries).toHaveLength(10);
    client.credit(90);
    await client.waitFor(100);
    expect(client.deliveries).toHaveLength(100);
    client.end();
  });

  it('redelivers with attempt + 1 when a lease expires', async () => {
    await createTopic(t.api.admin, 'leases', { partitions: 1 });
    await publishKeyed('leases', 3, 3);
    // A 1 ms backoff: the expired records come again almost at once.
    await createSubscription(t.api.admin, 'leases', 'slow', {
      startPosition: StartPosition.START_POSITION_EARLIEST,
      ackTimeoutMs: 300,
      retryPolicy: { initialBackoffMs: 1, maxBackoffMs: 1, jitter: Jitter.JITTER_NONE },
    });
    const client = new SubscribeClient(t.consumers);
    client.open('leases', 'slow', { credit: 100, ackTimeoutMs: 300 });
    await client.waitFor(6);
    expect(client.deliveries.slice(0, 3).map((d) => d.attempt)).toEqual([1, 1, 1]);
    expect(client.deliveries.slice(3, 6).map((d) => d.attempt)).toEqual([2, 2, 2]);
    expect(client.deliveries.slice(3, 6).map((d) => d.record?.offset).sort()).toEqual([0, 1, 2]);
    expect(client.notices.filter((n) => n.type === NoticeType.NOTICE_TYPE_LEASE_EXPIRED).flatMap((n) => n.ranges.map((r) => r.first)).sort()).toEqual([0, 1, 2]);
    client.end();
  });

  it('answers protocol violations with precise statuses', async () => {
    const early = new SubscribeClient(t.consumers);
    early.credit(5);
    await early.ended;
    expect(early.status?.code).toBe(Status.FAILED_PRECONDITION);

    const unknown = new SubscribeClient(t.consumers);
    unknown.send({ kind: { $case: 'open', value: { topic: 'nope', subscription: 's', memberId: '', createIfMissing: false } } });
    await unknown.ended;
    expect(unknown.status?.code).toBe(Status.NOT_FOUND);

    await createTopic(t.api.admin, 'strict-consume', { partitions: 1 });
    const missing = new SubscribeClient(t.consumers);
    missing.send({ kind: { $case: 'open', value: { topic: 'strict-consume', subscription: 'absent', memberId: '', createIfMissing: false } } });
    await missing.ended;
    expect(missing.status?.code).toBe(Status.NOT_FOUND);

    const negative = new SubscribeClient(t.consumers);
    negative.open('strict-consume', 'neg');
    negative.credit(-1);
    await negative.ended;
    expect(negative.status?.code).toBe(Status.INVALID_ARGUMENT);

    const stray = new SubscribeClient(t.consumers);
    stray.open('strict-consume', 'stray', { credit: 1 });
    stray.send({ kind: { $case: 'ack', value: { ranges: [{ partition: 0, first: 40, last: 41 }] } } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stray.errors[0]?.code).toBe(Status.FAILED_PRECONDITION);
    expect(stray.status).toBeUndefined();
    stray.end();
  });

  it('after a broker restart redelivers only what was not acknowledged', async () => {
    await createTopic(t.api.admin, 'restart', { partitions: 2 });
    await publishKeyed('restart', 200, 20);
    const first = new SubscribeClient(t.consumers);
    first.open('restart', 'durable', { credit: 200 });
    await first.waitFor(200);
    const acked = first.deliveries.slice(0, 150);
    first.ack(acked);
    // Let the acks reach storage (group-committed), then crash the broker.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await t.restartBroker({ kill9: true });
    const second = new SubscribeClient(t.consumers);
    second.open('restart', 'durable', { credit: 500 });
    await second.waitFor(50);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ackedValues = new Set(acked.map(valueOf));
    expect(second.deliveries).toHaveLength(50);
    for (const d of second.deliveries) {
      expect(ackedValues.has(valueOf(d))).toBe(false);
      expect(d.attempt).toBe(2);
    }
    second.end();
  });

  it('KEY_SHARED: a key stays with one member and keeps its order', async () => {
    await createTopic(t.api.admin, 'keyed', { partitions: 2 });
    await publishKeyed('keyed', 1000, 40);
    const members = ['a', 'b', 'c'].map((memberId) => {
      const client = new SubscribeClient(t.consumers);
      client.open('keyed', 'ks', { memberId, credit: 1000, mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED });
      return client;
    });
    await expect.poll(() => members.reduce((n, m) => n + m.deliveries.length, 0), { timeout: 20_000 }).toBe(1000);
    const ownerOfKey = new Map<string, number>();
    members.forEach((member, index) => {
      const lastIndexOfKey = new Map<string, number>();
      for (const d of member.deliveries) {
        const key = Buffer.from(d.record?.key ?? []).toString();
        expect(ownerOfKey.get(key) ?? index).toBe(index);
        ownerOfKey.set(key, index);
        const sequence = Number(valueOf(d).slice(1));
        expect(sequence).toBeGreaterThan(lastIndexOfKey.get(key) ?? -1);
        lastIndexOfKey.set(key, sequence);
      }
      expect(member.deliveries.length).toBeGreaterThan(0);
    });
    for (const m of members) m.end();
  });
});

describe('describe and seek', () => {
  it('describes per-partition progress and members, and seek replays from an offset', async () => {
    const { call } = await import('./grpc-helpers.js');
    await createTopic(t.api.admin, 'replay', { partitions: 1 });
    await publishKeyed('replay', 20, 2);
    const client = new SubscribeClient(t.consumers, true);
    client.open('replay', 'r', { memberId: 'reader', credit: 100 });
    await client.waitFor(20);
    await expect
      .poll(async () => {
        const described = await call<{ partitions: { committedOffset: number; lag: number }[] }>((cb) => {
          t.api.admin.describeSubscription({ topic: 'replay', name: 'r' }, cb);
        });
        return described.partitions[0];
      })
      .toMatchObject({ committedOffset: 20, lag: 0 });
    const described = await call<{ members: { memberId: string }[] }>((cb) => { t.api.admin.describeSubscription({ topic: 'replay', name: 'r' }, cb); });
    expect(described.members.map((m) => m.memberId)).toEqual(['reader']);

    const sought = await call<{ positions: { partition: number; offset: number }[] }>((cb) => {
      t.api.admin.seek({ topic: 'replay', name: 'r', target: { $case: 'offsets', value: { positions: [{ partition: 0, offset: 15 }] } } }, cb);
    });
    expect(sought.positions).toEqual([{ partition: 0, offset: 15 }]);
    await client.waitFor(25);
    expect(client.deliveries.slice(20).map((d) => d.record?.offset)).toEqual([15, 16, 17, 18, 19]);
    client.end();
  });
});
