// Ordering through the SDK `Consumer` against a real broker: per-key order
// with `concurrency: 16` over 1,000 keys (KEY_SHARED), and strict partition
// order with two members sharing a PARTITIONED subscription while the second
// joins mid-stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer } from '@braid/client';
import type { Message } from '@braid/client';
import { Durability, StartPosition, SubscriptionMode } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { clients, createTopic, describeSubscription, publish } from './grpc-helpers.js';

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;
const consumers: Consumer[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster();
  api = clients(cluster.broker.address);
}, 120_000);

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close({ timeoutMs: 1_000 })));
  api.close();
  await cluster.destroy();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function consumer(subscription: string, topic: string, mode: SubscriptionMode, memberId?: string): Consumer {
  const c = new Consumer({
    brokers: cluster.broker.address,
    topic,
    subscription,
    memberId,
    createIfMissing: true,
    settings: { mode, startPosition: StartPosition.START_POSITION_EARLIEST },
  });
  consumers.push(c);
  return c;
}

/** Publishes `rounds` rounds; round r carries sequence r of every key, one batch per round. */
async function publishRounds(topic: string, keys: number, from: number, to: number): Promise<void> {
  for (let round = from; round < to; round++) {
    const records = Array.from({ length: keys }, (_, k) => ({ key: Buffer.from(`key-${k}`), value: Buffer.from(String(round)), headers: {} }));
    await publish(api.producer, { topic, records });
  }
}

async function committed(topic: string, subscription: string): Promise<number> {
  const described = await describeSubscription(api.admin, topic, subscription);
  return described.partitions.reduce((n, p) => n + p.committedOffset, 0);
}

describe('SDK Consumer.run with concurrency 16 (KEY_SHARED, 1,000 keys)', () => {
  it('handles each key one record at a time in publish order, with several handlers running at once', async () => {
    const keys = 1_000;
    const perKey = 5;
    const total = keys * perKey;
    await createTopic(api.admin, 'per-key', { partitions: 8, durability: Durability.DURABILITY_WRITE });
    await publishRounds('per-key', keys, 0, perKey);

    const c = consumer('workers', 'per-key', SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED);
    const seen = new Map<string, number[]>();
    const busy = new Set<string>();
    const overlaps: string[] = [];
    let active = 0;
    let peak = 0;
    let handled = 0;
    let redeliveries = 0;
    const run = c.run(
      async (message: Message) => {
        const key = message.key?.toString() ?? '';
        if (busy.has(key)) overlaps.push(key);
        busy.add(key);
        active += 1;
        peak = Math.max(peak, active);
        if (message.attempt > 1) redeliveries += 1;
        seen.set(key, [...(seen.get(key) ?? []), Number(message.value.toString())]);
        // Random small waits interleave the handlers.
        await sleep(Math.floor(Math.random() * 4));
        active -= 1;
        busy.delete(key);
        handled += 1;
      },
      { concurrency: 16 },
    );
    await expect.poll(() => handled, { timeout: 120_000, interval: 100 }).toBeGreaterThanOrEqual(total);
    await expect.poll(() => committed('per-key', 'workers'), { timeout: 60_000, interval: 100 }).toBe(total);
    await c.close();
    await run;

    expect(overlaps).toEqual([]);
    expect(redeliveries).toBe(0);
    expect(handled).toBe(total);
    expect(seen.size).toBe(keys);
    for (const [key, sequence] of seen) expect(sequence, key).toEqual([0, 1, 2, 3, 4]);
    // Several handlers ran at once (a consumer running one at a time fails
    // here), never more than 16.
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(16);
  }, 240_000);
});

describe('SDK consumers on a PARTITIONED subscription (8 partitions, 2 members)', () => {
  it('processes each partition by one member at a time, in offset order without gaps, across the second member joining', async () => {
    const keys = 200;
    const rounds = 40;
    const total = keys * rounds;
    await createTopic(api.admin, 'strict', { partitions: 8, durability: Durability.DURABILITY_WRITE });
    await publishRounds('strict', keys, 0, rounds / 2);

    /** Per partition: (member, offset) in the order handlers started. */
    const processed = new Map<number, { member: string; offset: number }[]>();
    /** Partition -> member whose handler is running on it. */
    const inHandler = new Map<number, string>();
    const concurrent: string[] = [];
    let handled = 0;
    const handler = (member: string) => async (message: Message): Promise<void> => {
      const running = inHandler.get(message.partition);
      if (running !== undefined) concurrent.push(`${message.partition}:${message.offset} by ${member} while ${running} works on it`);
      inHandler.set(message.partition, member);
      const list = processed.get(message.partition) ?? [];
      list.push({ member, offset: message.offset });
      processed.set(message.partition, list);
      await sleep(Math.random() < 0.2 ? 1 : 0);
      inHandler.delete(message.partition);
      handled += 1;
    };

    const first = consumer('ordered', 'strict', SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 'member-1');
    const firstRun = first.run(handler('member-1'));
    await expect.poll(() => handled, { timeout: 60_000 }).toBeGreaterThanOrEqual(500);
    // The second member joins while the first is still working: the
    // partitions it owns move to it once the first has settled their records.
    const second = consumer('ordered', 'strict', SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, 'member-2');
    const secondRun = second.run(handler('member-2'));
    await publishRounds('strict', keys, rounds / 2, rounds);

    await expect.poll(() => committed('strict', 'ordered'), { timeout: 120_000, interval: 100 }).toBe(total);
    const described = await describeSubscription(api.admin, 'strict', 'ordered');
    expect(described.members.map((m) => m.memberId).sort()).toEqual(['member-1', 'member-2']);
    await Promise.all([first.close(), second.close()]);
    await Promise.all([firstRun, secondRun]);

    expect(concurrent).toEqual([]);
    expect(handled).toBe(total);
    expect([...processed.keys()].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const partitionsOf = new Map<string, Set<number>>();
    for (const [partition, list] of processed) {
      const highWatermark = described.partitions.find((p) => p.partition === partition)?.highWatermark ?? -1;
      // Strictly increasing offsets, no gaps, nothing twice: 0, 1, 2, ...
      expect(list.map((e) => e.offset), `partition ${partition}`).toEqual(Array.from({ length: highWatermark }, (_, i) => i));
      // At most one hand-over, from the first member to the second.
      const owners = list.map((e) => e.member).filter((m, i, all) => i === 0 || all[i - 1] !== m);
      expect([['member-1'], ['member-2'], ['member-1', 'member-2']], `partition ${partition}: ${owners.join(' -> ')}`).toContainEqual(owners);
      for (const member of new Set(list.map((e) => e.member))) partitionsOf.set(member, (partitionsOf.get(member) ?? new Set()).add(partition));
    }
    // The second member took partitions over; the first kept some.
    expect(partitionsOf.get('member-2')?.size ?? 0).toBeGreaterThan(0);
    expect([...(partitionsOf.get('member-1') ?? [])].some((p) => !(partitionsOf.get('member-2')?.has(p) ?? false))).toBe(true);
  }, 240_000);
});
