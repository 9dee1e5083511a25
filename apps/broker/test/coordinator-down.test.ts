// The data path does not need the coordinator (issue 6, "Coordinator down:
// publishing and consuming on existing partitions continue"): with the
// embedded coordinator killed, an SDK consumer that is already running keeps
// receiving, in per-key order, what is published meanwhile, and after the
// coordinator returns nothing was lost or delivered twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Consumer } from '@braid/client';
import { BraidError } from '@braid/core';
import { StartPosition, SubscriptionMode } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { clients, createTopic, publish } from './grpc-helpers.js';

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;

beforeAll(async () => {
  cluster = await startLocalCluster();
  api = clients(cluster.broker.address);
}, 120_000);

afterAll(async () => {
  api.close();
  await cluster.destroy();
});

/**
 * Publishes `rounds` rounds; round r carries sequence r of every key. A
 * retriable refusal is tried again for up to 30 s, as the SDK's producer
 * does: right after the coordinator comes back, its metadata shows a
 * partition UNAVAILABLE until the broker has registered with it again
 * (nothing was appended then, so the retry cannot duplicate).
 */
async function publishRounds(topic: string, keys: number, from: number, to: number): Promise<void> {
  for (let round = from; round < to; round++) {
    const records = Array.from({ length: keys }, (_, k) => ({ key: Buffer.from(`key-${k}`), value: Buffer.from(String(round)), headers: {} }));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await publish(api.producer, { topic, records });
        break;
      } catch (error) {
        if (!(error instanceof BraidError) || !error.retriable || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}

describe('coordinator down', () => {
  it('a running consumer keeps receiving what is published while the coordinator is down, in key order, none lost or twice', async () => {
    const topic = 'coordinator-down';
    const keys = 200;
    await createTopic(api.admin, topic, { partitions: 4 });
    const consumer = new Consumer({
      brokers: cluster.broker.address,
      topic,
      subscription: 'workers',
      createIfMissing: true,
      settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST },
    });
    /** key -> sequence numbers in the order handled. */
    const seen = new Map<string, number[]>();
    let handled = 0;
    const run = consumer.run(
      (message) => {
        const key = message.key?.toString() ?? '';
        seen.set(key, [...(seen.get(key) ?? []), Number(message.value.toString())]);
        handled++;
      },
      { concurrency: 8 },
    );
    try {
      await publishRounds(topic, keys, 0, 5);
      await expect.poll(() => handled, { timeout: 30_000, interval: 100 }).toBe(keys * 5);

      await cluster.coordinator.kill9();
      try {
        // Published and consumed with no coordinator at all.
        await publishRounds(topic, keys, 5, 15);
        await expect.poll(() => handled, { timeout: 30_000, interval: 100 }).toBe(keys * 15);
      } finally {
        await cluster.restartCoordinator();
      }
      await publishRounds(topic, keys, 15, 20);
      await expect.poll(() => handled, { timeout: 30_000, interval: 100 }).toBe(keys * 20);
      // A moment for a duplicate to show up.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(handled).toBe(keys * 20);
      expect(seen.size).toBe(keys);
      for (const [key, sequence] of seen) expect(sequence, key).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await consumer.close({ timeoutMs: 2_000 });
      await run;
    }
  }, 120_000);
});
