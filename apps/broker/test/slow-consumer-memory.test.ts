// A member that stops reading while 200,000 records are published: the
// broker's own report (DescribeBroker) shows that what it holds for the
// member stays bounded, because it stops writing when the stream backs up
// (HTTP/2 flow control -> grpc-js write() false -> wait for 'drain').
import { describe, expect, it } from 'vitest';
import { Durability, SubscriptionMode } from '@braid/proto';
import type { DescribeBrokerResponse } from '@braid/proto';
import { PublishStreamClient, call, createTopic, describeBroker } from './grpc-helpers.js';
import { useLocalCluster } from './cluster-fixture.js';
import { SubscribeClient } from './subscribe-client.js';

const MiB = 1024 * 1024;
const records = 200_000;
const valueBytes = 256;
const partitions = 4;
/**
 * The subscription's limit on unsettled records per member, the highest
 * the coordinator accepts. A broker that ignored backpressure would hand the
 * stalled member this many records (~27 MB of deliveries) and queue them.
 */
const maxUnacked = 100_000;
/**
 * Bound on what the Subscribe stream may queue. With backpressure the
 * broker stops after grpc-js's write buffer fills (16 messages, the
 * object-mode high-water mark) plus the message held by HTTP/2, each batch
 * at most 500 deliveries of ~290 encoded bytes: ~17 x 145 KB ~ 2.5 MB.
 * Ignoring backpressure would queue at least the unacked limit, 100,000 x
 * ~290 B ~ 27.7 MiB, and publishing everything 55 MiB.
 */
const queuedBytesBound = 16 * MiB;
/**
 * Generous bound on the broker's V8 heap: its idle heap is tens of MiB and
 * the publish path's garbage comes and goes; holding the 200,000 records as
 * objects would add well over 100 MiB.
 */
const heapUsedBound = 300 * MiB;


const t = useLocalCluster();


async function publishAll(topic: string): Promise<void> {
  const stream = new PublishStreamClient(t.api.producer);
  const batch = 1_000;
  const inFlight: Promise<unknown>[] = [];
  for (let first = 0; first < records; first += batch) {
    const batchRecords = Array.from({ length: batch }, (_, i) => {
      const n = first + i;
      const value = Buffer.alloc(valueBytes, 'x');
      value.write(`r${n}:`);
      return { key: Buffer.from(`k${n % 1000}`), value, headers: {} };
    });
    inFlight.push(
      stream.send({ topic, records: batchRecords }).then((response) => {
        if (response.result?.$case !== 'ok' || response.result.value.results.length !== batch) throw new Error(`publish failed: ${JSON.stringify(response.result)}`);
      }),
    );
    if (inFlight.length >= 8) await inFlight.shift();
  }
  await Promise.all(inFlight);
  stream.end();
}

async function handedOut(topic: string, subscription: string): Promise<{ unacked: number; highWatermark: number }> {
  const described = await call<{ partitions: { unacked: number; highWatermark: number }[] }>((cb) => {
    t.api.admin.describeSubscription({ topic, name: subscription }, cb);
  });
  return described.partitions.reduce((sum, p) => ({ unacked: sum.unacked + p.unacked, highWatermark: sum.highWatermark + p.highWatermark }), {
    unacked: 0,
    highWatermark: 0,
  });
}

describe('a member that stops reading', () => {
  it('keeps the broker holding a bounded amount while 200,000 records are published, then gets them all', async () => {
    await createTopic(t.api.admin, 'stalled', { partitions, durability: Durability.DURABILITY_WRITE });
    const samples: DescribeBrokerResponse[] = [await describeBroker(t.api.admin)];
    const baseline = samples[0];
    expect(baseline?.consume?.subscribeStreams).toBe(0);

    const member = new SubscribeClient(t.consumers, true);
    member.pause();
    member.open('stalled', 'slow', {
      memberId: 'stalled-member',
      credit: 1_000_000,
      mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
      // No lease runs out while the member is stalled.
      ackTimeoutMs: 600_000,
      maxUnackedPerMember: maxUnacked,
    });
    await expect.poll(async () => (await describeBroker(t.api.admin)).consume?.subscribeStreams, { timeout: 20_000 }).toBe(1);

    // Sample the broker's report all through the publishing.
    const published = new AbortController();
    const sampler = (async () => {
      while (!published.signal.aborted) {
        samples.push(await describeBroker(t.api.admin));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await publishAll('stalled');
    published.abort();
    await sampler;

    // Wait until dispatch has stopped: the stream is backed up and what was
    // handed to the member no longer grows.
    let previous = -1;
    await expect
      .poll(
        async () => {
          const broker = await describeBroker(t.api.admin);
          samples.push(broker);
          const { unacked } = await handedOut('stalled', 'slow');
          const settled = unacked === previous && (broker.consume?.queuedMessages ?? 0) > 0;
          previous = unacked;
          return settled;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(true);

    const { unacked, highWatermark } = await handedOut('stalled', 'slow');
    const last = await describeBroker(t.api.admin);
    samples.push(last);
    const peakQueuedBytes = Math.max(...samples.map((s) => s.consume?.queuedBytes ?? 0));
    const peakHeapUsed = Math.max(...samples.map((s) => s.memory?.heapUsedBytes ?? 0));

    // Control: everything was published, the member read none of it, and
    // the broker handed it far less than it could have.
    expect(highWatermark).toBe(records);
    expect(member.deliveries).toHaveLength(0);
    expect(unacked).toBeGreaterThan(0);
    expect(unacked).toBeLessThan(maxUnacked);
    // What the stream queues is bounded, whatever was published.
    expect(last.consume).toMatchObject({ subscribeStreams: 1 });
    expect(last.consume?.queuedMessages).toBeGreaterThan(0);
    expect(peakQueuedBytes).toBeGreaterThan(0);
    expect(peakQueuedBytes).toBeLessThan(queuedBytesBound);
    expect(peakHeapUsed).toBeLessThan(heapUsedBound);

    // Reading again delivers every record exactly once, in order per partition.
    member.resume();
    await member.waitFor(records, 180_000);
    expect(member.deliveries).toHaveLength(records);
    const byPartition = new Map<number, number[]>();
    for (const d of member.deliveries) {
      const list = byPartition.get(d.record?.partition ?? -1) ?? [];
      list.push(d.record?.offset ?? -1);
      byPartition.set(d.record?.partition ?? -1, list);
    }
    expect([...byPartition.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const offsets of byPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    await expect.poll(async () => (await describeBroker(t.api.admin)).consume?.queuedMessages, { timeout: 20_000 }).toBe(0);
    member.end();
    await expect.poll(async () => (await describeBroker(t.api.admin)).consume?.subscribeStreams, { timeout: 20_000 }).toBe(0);
  }, 300_000);
});
