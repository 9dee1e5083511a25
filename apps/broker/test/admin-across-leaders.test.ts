// Admin calls that need every partition's leader (issue 6: one address is
// enough): on two brokers, any broker answers DescribeTopic with every
// partition's watermarks, DescribeSubscription with every leader's progress
// and members, and Seek on every partition, by asking the other leader for
// its part. A seek that cannot reach every partition it concerns moves
// nothing and says UNAVAILABLE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import { PartitionStatus, StartPosition, SubscriptionMode } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

const leaseMs = 2_000;
const partitions = 4;
const perPartition = 25;

let cluster: LocalCluster;
let admins: Admin[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({ brokers: 2, coordinatorArgs: ['--broker-lease-ms', String(leaseMs)], brokerArgs: ['--heartbeat-interval-ms', '500'] });
  admins = cluster.brokerAddresses.map((address) => new Admin({ brokers: address }));
}, 120_000);

afterAll(async () => {
  for (const admin of admins) admin.close();
  await cluster.destroy();
});

function admin(index: number): Admin {
  const found = admins[index];
  if (!found) throw new Error(`no admin ${index}`);
  return found;
}

/** Consumes until `count` distinct offsets were received (acknowledging each); returns them as partition:offset. */
async function consumeAll(subscription: string, count: number): Promise<Set<string>> {
  const consumer = new Consumer({
    brokers: cluster.brokerAddresses[0] ?? '',
    topic: 'spread',
    subscription,
    memberId: 'm1',
    createIfMissing: true,
    settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, startPosition: StartPosition.START_POSITION_EARLIEST },
  });
  const seen = new Set<string>();
  try {
    for await (const message of consumer) {
      seen.add(`${message.partition}:${message.offset}`);
      message.ack();
      if (seen.size >= count) break;
    }
  } finally {
    await consumer.close();
  }
  return seen;
}

describe('admin calls across partition leaders', () => {
  it('describes watermarks and subscription progress of every partition, and seeks every partition, from either broker', async () => {
    await admin(0).createTopic('spread', { partitions });
    const described = await admin(0).describeTopic('spread');
    const leaders = described.partitions.map((p) => p.leaderId);
    expect(new Set(leaders)).toEqual(new Set(['broker-1', 'broker-2']));

    const producer = new Producer({ brokers: cluster.brokerAddresses[0] ?? '' });
    for (let partition = 0; partition < partitions; partition++) {
      await producer.send('spread', Array.from({ length: perPartition }, (_, i) => ({ partition, key: `k${i}`, value: `p${partition}-${i}` })));
    }
    await producer.close();

    // Watermarks of every partition, whichever broker is asked.
    for (const index of [0, 1]) {
      const topic = await admin(index).describeTopic('spread');
      expect(topic.partitions.map((p) => [p.partition, p.highWatermark])).toEqual(Array.from({ length: partitions }, (_, p) => [p, perPartition]));
      expect(topic.partitions.every((p) => p.sizeBytes > 0)).toBe(true);
    }

    // Progress of every partition after consuming and acknowledging everything.
    expect((await consumeAll('audit', partitions * perPartition)).size).toBe(partitions * perPartition);
    await expect
      .poll(async () => (await admin(1).describeSubscription('spread', 'audit')).partitions.map((p) => [p.partition, p.committedOffset, p.lag]), { timeout: 10_000 })
      .toEqual(Array.from({ length: partitions }, (_, p) => [p, perPartition, 0]));

    // Seek to the start on every partition through broker 2, then an offset on a partition broker 1 leads.
    const rewound = await admin(1).seek('spread', 'audit', { earliest: true });
    expect(rewound.map((p) => [p.partition, p.offset])).toEqual(Array.from({ length: partitions }, (_, p) => [p, 0]));
    const ledByFirst = leaders.indexOf('broker-1');
    const moved = await admin(1).seek('spread', 'audit', { offsets: [{ partition: ledByFirst, offset: 20 }] });
    expect(moved).toEqual([{ partition: ledByFirst, offset: 20 }]);
    const progress = await admin(0).describeSubscription('spread', 'audit');
    expect(progress.partitions.map((p) => p.committedOffset)).toEqual(Array.from({ length: partitions }, (_, p) => (p === ledByFirst ? 20 : 0)));
    // Everything after the cursors is delivered again.
    expect((await consumeAll('audit', partitions * perPartition - 20)).size).toBe(partitions * perPartition - 20);

    // With broker 2 down, a seek that needs its partitions moves nothing and says UNAVAILABLE; describe still answers.
    await cluster.brokers[1]?.kill9();
    await expect
      .poll(async () => (await admin(0).describeTopic('spread')).partitions.filter((p) => p.status === PartitionStatus.PARTITION_STATUS_UNAVAILABLE).length, { timeout: leaseMs * 5 })
      .toBe(leaders.filter((id) => id === 'broker-2').length);
    await expect(admin(0).seek('spread', 'audit', { earliest: true })).rejects.toMatchObject({ reason: 'PARTITION_UNAVAILABLE' });
    const after = await admin(0).describeSubscription('spread', 'audit');
    expect(after.partitions.every((p) => p.committedOffset === perPartition)).toBe(true);
  }, 120_000);
});
