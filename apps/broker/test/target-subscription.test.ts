// Records for one subscription only (`PublishRequest.target_subscription`,
// SDK `Producer({ targetSubscription })`): how a dead-letter redrive reaches
// the subscription that failed a record and no other. The other
// subscriptions skip such records (their cursor moves past them), the
// target gets them in key order with the others, with their redrive count,
// and an unknown target is INVALID_ARGUMENT.
import { afterAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { StartPosition, SubscriptionMode } from '@braid/proto';
import { failure } from '@braid/testkit';
import { useLocalCluster } from './cluster-fixture.js';
import { publish } from './grpc-helpers.js';

const t = useLocalCluster();
const opened: { close(): Promise<void> | void }[] = [];

afterAll(async () => {
  for (const c of opened) await c.close();
});

/** Consumes `subscription` until `count` records arrived; acknowledges each. */
async function consume(subscription: string, count: number): Promise<Message[]> {
  const consumer = new Consumer({
    brokers: t.cluster.broker.address,
    topic: 'orders',
    subscription,
    settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST },
  });
  const received: Message[] = [];
  try {
    for await (const message of consumer) {
      received.push(message);
      message.ack();
      if (received.length >= count) break;
    }
  } finally {
    await consumer.close();
  }
  return received;
}

describe('target_subscription', () => {
  it('delivers targeted records to their subscription only, in key order, and moves the others past them', async () => {
    const admin = new Admin({ brokers: t.cluster.broker.address });
    opened.push(admin);
    await admin.createTopic('orders', { partitions: 2 });
    await admin.createSubscription('orders', 'billing');
    await admin.createSubscription('orders', 'audit');

    const everyone = new Producer({ brokers: t.cluster.broker.address });
    const billingOnly = new Producer({ brokers: t.cluster.broker.address, targetSubscription: 'billing' });
    opened.push(everyone, billingOnly);
    const keys = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 3; round++) {
      await everyone.send('orders', keys.map((key) => ({ key, value: `all-${round}` })));
      await billingOnly.send('orders', keys.map((key) => ({ key, value: `billing-${round}`, redriveCount: round + 1 })));
    }
    await everyone.send('orders', keys.map((key) => ({ key, value: 'all-last' })));

    const billing = await consume('billing', keys.length * 7);
    const audit = await consume('audit', keys.length * 4);
    for (const key of keys) {
      const forKey = (messages: Message[]): string[] => messages.filter((m) => m.key?.toString() === key).map((m) => m.value.toString());
      expect(forKey(billing)).toEqual(['all-0', 'billing-0', 'all-1', 'billing-1', 'all-2', 'billing-2', 'all-last']);
      expect(forKey(audit)).toEqual(['all-0', 'all-1', 'all-2', 'all-last']);
    }
    expect(billing.filter((m) => m.value.toString().startsWith('billing-')).map((m) => m.redriveCount).sort()).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    expect(billing.filter((m) => m.value.toString().startsWith('all-')).every((m) => m.redriveCount === 0)).toBe(true);

    // Both subscriptions are done with every offset: the skipped ones count as settled.
    const ends = (await admin.describeTopic('orders')).partitions.map((p) => p.highWatermark);
    for (const name of ['billing', 'audit']) {
      await expect.poll(async () => (await admin.describeSubscription('orders', name)).partitions.map((p) => p.committedOffset), { timeout: 10_000 }).toEqual(ends);
    }
  });

  it('refuses an unknown target subscription with INVALID_ARGUMENT naming the field', async () => {
    const refused = await failure(publish(t.api.producer, { topic: 'orders', targetSubscription: 'nobody', records: [{ key: Buffer.from('a'), value: Buffer.from('x'), headers: {} }] }));
    expect(refused.code).toBe(3);
    expect(refused.message).toContain('target_subscription "nobody"');
    expect(refused.metadata).toMatchObject({ field: 'target_subscription' });
  });
});
