// Three brokers and a coordinator as real processes (issue 6): partitions
// spread evenly over the brokers; an SDK producer and consumers given ONE
// broker address reach every leader, and 100,000 keyed records arrive in
// each of two subscriptions (KEY_SHARED with two members, PARTITIONED)
// complete and in per-key order; a broker killed with kill -9 makes only
// its own partitions UNAVAILABLE, the others keep working, and after it
// restarts every acknowledged record is delivered. Prints timings (figures,
// not assertions).
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message, RecordMetadata } from '@braid/client';
import { fromGrpcError } from '@braid/core';
import { Durability, PartitionStatus, StartPosition, SubscriptionMode } from '@braid/proto';
import type { DescribeTopicResponse } from '@braid/proto';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { clients, publish } from './grpc-helpers.js';

/** Broker lease at the coordinator: short, so a killed broker is marked down in about 2 s, not the default 10 s. */
const leaseMs = 2_000;
const brokerCount = 3;

let cluster: LocalCluster;
/** The only address the SDK clients are given: the first broker's. */
let bootstrap: string;
let admin: Admin;
let producer: Producer;
/** Closes every consumer a test started, should the test fail half-way. */
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster({
    brokers: brokerCount,
    coordinatorArgs: ['--broker-lease-ms', String(leaseMs)],
    brokerArgs: ['--heartbeat-interval-ms', '500'],
  });
  bootstrap = cluster.brokers[0]?.address ?? '';
  admin = new Admin({ brokers: bootstrap });
  producer = new Producer({ brokers: bootstrap });
}, 120_000);

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await producer.close({ timeoutMs: 5_000 });
  admin.close();
  await cluster.destroy();
});

function track<T>(consumer: Consumer<T>): Consumer<T> {
  closers.push(() => consumer.close({ timeoutMs: 1_000 }));
  return consumer;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Index in `cluster.brokers` of the broker with id `brokerId`. */
function brokerIndex(brokerId: string): number {
  return Array.from({ length: brokerCount }, (_, i) => cluster.brokerId(i)).indexOf(brokerId);
}

/** Partition numbers per leader broker id. */
function partitionsByLeader(described: DescribeTopicResponse): Map<string, number[]> {
  const byLeader = new Map<string, number[]>();
  for (const p of described.partitions) byLeader.set(p.leaderId, [...(byLeader.get(p.leaderId) ?? []), p.partition]);
  return byLeader;
}

/** `key-<k>` with sequence `seq`, as a record value. */
const valueOf = (k: number, seq: number): string => `${k}:${seq}`;

function parseValue(message: Message): { key: string; seq: number } {
  const [k, seq] = message.value.toString().split(':');
  return { key: `key-${k}`, seq: Number(seq) };
}

function append<K>(map: Map<K, number[]>, key: K, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * What one subscription received, across its members. At-least-once: a
 * record may come more than once, so records are told apart by (partition,
 * offset) and order is judged on each record's first delivery.
 */
class Received {
  /** partition:offset of every record delivered, with its first delivery's member. */
  readonly first = new Map<string, string>();
  /** key -> sequence numbers of first deliveries, in the order handlers started. */
  readonly sequences = new Map<string, number[]>();
  /** partition -> offsets of first deliveries, in the order handlers started. */
  readonly offsets = new Map<number, number[]>();
  /** Records delivered again after their first delivery: partition:offset#attempt. */
  readonly again: { id: string; attempt: number }[] = [];
  /** A handler started for a key while another ran for it (any member). */
  readonly overlaps: string[] = [];
  private readonly busy = new Set<string>();
  deliveries = 0;
  active = 0;
  peak = 0;

  /** Records the start of a handler; returns its end. */
  start(member: string, message: Message): () => void {
    const { key, seq } = parseValue(message);
    const id = `${message.partition}:${message.offset}`;
    this.deliveries += 1;
    if (this.busy.has(key)) this.overlaps.push(`${key}#${seq} by ${member}`);
    this.busy.add(key);
    this.active += 1;
    this.peak = Math.max(this.peak, this.active);
    if (this.first.has(id)) this.again.push({ id, attempt: message.attempt });
    else {
      this.first.set(id, member);
      append(this.sequences, key, seq);
      append(this.offsets, message.partition, message.offset);
    }
    return () => {
      this.active -= 1;
      this.busy.delete(key);
    };
  }

  /** Keys whose first deliveries are not exactly `expected(key)` in order, as readable lines. */
  orderViolations(expected: (key: string) => number[]): string[] {
    const wrong: string[] = [];
    for (const [key, seqs] of this.sequences) {
      const want = expected(key);
      if (seqs.length !== want.length || seqs.some((s, i) => s !== want[i])) wrong.push(`${key}: ${seqs.join(',')}`);
    }
    return wrong;
  }
}

/** Committed offset per partition of a subscription, as any one broker reports it (it asks the other leaders). */
async function committedOffsets(topic: string, subscription: string): Promise<number[]> {
  return (await admin.describeSubscription(topic, subscription)).partitions.map((p) => p.committedOffset);
}

/** The end offset of each of a topic's 12 partitions after the acknowledged records (`partition:offset` keys). */
function endOffsets(acked: ReadonlyMap<string, string>): number[] {
  const ends = new Map<number, number>();
  for (const id of acked.keys()) {
    const [partition = 0, offset = 0] = id.split(':').map(Number);
    ends.set(partition, Math.max(ends.get(partition) ?? 0, offset + 1));
  }
  return Array.from({ length: 12 }, (_, partition) => ends.get(partition) ?? 0);
}

/**
 * Handler of one member: records what it sees, yields 0-3 times so that
 * handlers running at once finish in a random order, returns (the SDK acks).
 */
function handler(received: Received, member: string): (message: Message) => Promise<void> {
  return async (message) => {
    const done = received.start(member, message);
    try {
      for (let yields = Math.floor(Math.random() * 4); yields > 0; yields--) await new Promise((resolve) => setImmediate(resolve));
    } finally {
      done();
    }
  };
}

describe('a 3-broker cluster', () => {
  it('spreads a 12-partition topic evenly over the three brokers, and the metadata names each leader by id and address', async () => {
    await admin.createTopic('spread', { partitions: 12 });
    const described = await admin.describeTopic('spread');
    const byLeader = partitionsByLeader(described);
    console.log(`12 partitions by leader: ${[...byLeader].map(([id, ps]) => `${id}=[${ps.join(',')}]`).join(' ')}`);
    expect([...byLeader.keys()].sort()).toEqual(['broker-1', 'broker-2', 'broker-3']);
    const counts = [...byLeader.values()].map((ps) => ps.length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(described.partitions.map((p) => p.partition).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const p of described.partitions) {
      expect(p.status, `partition ${p.partition}`).toBe(PartitionStatus.PARTITION_STATUS_AVAILABLE);
      expect(p.leaderAddress, `partition ${p.partition}`).toBe(cluster.brokers[brokerIndex(p.leaderId)]?.address);
    }

    const metadata = await admin.getMetadata(['spread']);
    expect(metadata.brokers.map((b) => [b.brokerId, b.address, b.live]).sort()).toEqual(
      cluster.brokers.map((b, i) => [cluster.brokerId(i), b.address, true]).sort(),
    );
    expect(metadata.topics[0]?.partitions.map((p) => p.leaderId)).toEqual(described.partitions.map((p) => p.leaderId));

    // Each broker serves its own partitions: a record sent to every
    // partition through the one bootstrap address lands on each leader,
    // which reports it in its high watermark.
    const sent = await producer.send(
      'spread',
      Array.from({ length: 12 }, (_, partition) => ({ partition, value: `p${partition}` })),
    );
    expect(sent.map((m) => m.partition)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const [index, address] of cluster.brokerAddresses.entries()) {
      const direct = new Admin({ brokers: address });
      try {
        for (const partition of byLeader.get(cluster.brokerId(index) ?? '') ?? []) {
          const read = await direct.readRecords('spread', partition);
          expect(read.records.map((r) => Buffer.from(r.value).toString()), `partition ${partition} at ${address}`).toEqual([`p${partition}`]);
        }
      } finally {
        direct.close();
      }
    }
  });

  it('delivers 100,000 keyed records published through one bootstrap address to a KEY_SHARED and a PARTITIONED subscription: all of them, per-key order', async () => {
    const topic = 'events';
    const keys = 1_000;
    const perKey = 100;
    const total = keys * perKey;
    await admin.createTopic(topic, { partitions: 12, durability: Durability.DURABILITY_FSYNC });
    const described = await admin.describeTopic(topic);
    expect(new Set(described.partitions.map((p) => p.leaderId)).size).toBe(brokerCount);
    await admin.createSubscription(topic, 'workers', { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST });
    await admin.createSubscription(topic, 'ledger', { mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, startPosition: StartPosition.START_POSITION_EARLIEST });

    const shared = new Received();
    const partitioned = new Received();
    const member = (subscription: string, memberId: string): Consumer =>
      track(new Consumer({ brokers: bootstrap, topic, subscription, memberId }));
    const members = [
      { consumer: member('workers', 'worker-1'), received: shared, concurrency: 8 },
      { consumer: member('workers', 'worker-2'), received: shared, concurrency: 8 },
      { consumer: member('ledger', 'ledger-1'), received: partitioned, concurrency: 1 },
      { consumer: member('ledger', 'ledger-2'), received: partitioned, concurrency: 1 },
    ];
    // Every member is connected to every broker before the first record,
    // so keys and partitions are shared out once and never move.
    await Promise.all(members.map(({ consumer }) => consumer.connect()));
    const runs = members.map(({ consumer, received, concurrency }) => consumer.run(handler(received, consumer.memberId), { concurrency }));

    const started = Date.now();
    /** partition:offset -> key#seq of every acknowledged record. */
    const acked = new Map<string, string>();
    const sends: Promise<void>[] = [];
    for (let seq = 0; seq < perKey; seq++) {
      const round = Array.from({ length: keys }, (_, k) => ({ key: `key-${k}`, value: valueOf(k, seq) }));
      sends.push(
        producer.send(topic, round).then((metadata: RecordMetadata[]) => {
          metadata.forEach((m, k) => acked.set(`${m.partition}:${m.offset}`, `key-${k}#${seq}`));
        }),
      );
      await producer.ready();
    }
    await Promise.all(sends);
    const publishedAt = Date.now();
    expect(acked.size).toBe(total);

    await expect.poll(() => shared.first.size, { timeout: 150_000, interval: 200 }).toBe(total);
    const sharedAt = Date.now();
    await expect.poll(() => partitioned.first.size, { timeout: 150_000, interval: 200 }).toBe(total);
    const partitionedAt = Date.now();
    // Everything settled: the subscriptions' committed offsets reach the end of every partition.
    await expect.poll(() => committedOffsets(topic, 'workers'), { timeout: 60_000, interval: 200 }).toEqual(endOffsets(acked));
    await expect.poll(() => committedOffsets(topic, 'ledger'), { timeout: 60_000, interval: 200 }).toEqual(endOffsets(acked));
    await Promise.all(members.map(({ consumer }) => consumer.close()));
    await Promise.all(runs);
    console.log(
      `100,000 records (${shared.again.length} + ${partitioned.again.length} redelivered): published in ${publishedAt - started} ms; all delivered to KEY_SHARED after ${sharedAt - started} ms ` +
        `(${shared.deliveries} deliveries, peak ${shared.peak} handlers), to PARTITIONED after ${partitionedAt - started} ms ` +
        `(${partitioned.deliveries} deliveries)`,
    );

    const allKeys = (): number[] => Array.from({ length: perKey }, (_, i) => i);
    for (const [name, received] of [['KEY_SHARED', shared], ['PARTITIONED', partitioned]] as const) {
      // Exactly the acknowledged records, each key's in publish order.
      expect([...received.first.keys()].filter((id) => !acked.has(id)), name).toEqual([]);
      expect(received.first.size, name).toBe(total);
      expect(received.sequences.size, name).toBe(keys);
      expect(received.orderViolations(allKeys), name).toEqual([]);
      // A record comes again only as a redelivery (attempt > 1, after a
      // lease expired or a stream broke), never as a second first attempt.
      expect(received.again.filter((a) => a.attempt === 1), name).toEqual([]);
      expect(received.overlaps, name).toEqual([]);
    }
    // Both KEY_SHARED members worked, several handlers at once.
    const sharedMembers = new Set(shared.first.values());
    expect([...sharedMembers].sort()).toEqual(['worker-1', 'worker-2']);
    expect(shared.peak).toBeGreaterThan(1);
    // PARTITIONED: each partition went to one member, in offset order without gaps.
    const ownerOf = new Map<number, Set<string>>();
    for (const [id, owner] of partitioned.first) {
      const partition = Number(id.split(':')[0]);
      ownerOf.set(partition, (ownerOf.get(partition) ?? new Set()).add(owner));
    }
    expect([...ownerOf.values()].filter((owners) => owners.size !== 1)).toEqual([]);
    expect(new Set([...ownerOf.values()].flatMap((owners) => [...owners])).size).toBe(2);
    const ends = endOffsets(acked);
    expect([...partitioned.offsets.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const [partition, offsets] of partitioned.offsets) {
      expect(offsets, `partition ${partition}`).toEqual(Array.from({ length: ends[partition] ?? 0 }, (_, i) => i));
    }
  }, 300_000);

  it("makes a kill -9'd broker's partitions UNAVAILABLE while the others keep working, and delivers every acknowledged record after its restart", async () => {
    const topic = 'outage';
    const keys = 300;
    await admin.createTopic(topic, { partitions: 12, durability: Durability.DURABILITY_FSYNC });
    await admin.createSubscription(topic, 'audit', { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED, startPosition: StartPosition.START_POSITION_EARLIEST });
    const byLeader = partitionsByLeader(await admin.describeTopic(topic));
    // Never the bootstrap broker: the clients keep their one address.
    const victim = 2;
    const victimId = cluster.brokerId(victim) ?? '';
    const down = new Set(byLeader.get(victimId) ?? []);
    expect(down.size).toBeGreaterThan(0);

    /** partition:offset -> key#seq of every acknowledged record. */
    const acked = new Map<string, string>();
    const partitionOfKey = new Map<number, number>();
    /** Sequence numbers sent so far per key (all acknowledged). */
    const sentPerKey = new Map<number, number>();
    const sendRound = async (keysToSend: number[]): Promise<void> => {
      const records = keysToSend.map((k) => ({ key: `key-${k}`, value: valueOf(k, sentPerKey.get(k) ?? 0) }));
      const metadata = await producer.send(topic, records);
      metadata.forEach((m, i) => {
        const k = keysToSend[i] ?? -1;
        const seq = sentPerKey.get(k) ?? 0;
        acked.set(`${m.partition}:${m.offset}`, `key-${k}#${seq}`);
        partitionOfKey.set(k, m.partition);
        sentPerKey.set(k, seq + 1);
      });
    };
    const everyKey = Array.from({ length: keys }, (_, k) => k);
    for (let round = 0; round < 20; round++) await sendRound(everyKey);
    const beforeKill = acked.size;

    const received = new Received();
    const consumer = track(new Consumer({ brokers: bootstrap, topic, subscription: 'audit', memberId: 'auditor' }));
    // Slow enough that the victim still holds undelivered records when it is killed.
    const run = consumer.run(
      async (message) => {
        const done = received.start('auditor', message);
        try {
          await sleep(1);
        } finally {
          done();
        }
      },
      { concurrency: 4 },
    );
    await expect.poll(() => received.first.size, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(beforeKill / 5);

    const killedAt = Date.now();
    await cluster.brokers[victim]?.kill9();

    // The metadata reports exactly its partitions UNAVAILABLE, still led by it (not moved).
    const expectedStatus = Array.from({ length: 12 }, (_, p) => (down.has(p) ? PartitionStatus.PARTITION_STATUS_UNAVAILABLE : PartitionStatus.PARTITION_STATUS_AVAILABLE));
    await expect
      .poll(async () => (await admin.describeTopic(topic)).partitions.map((p) => p.status), { timeout: leaseMs * 5, interval: 50 })
      .toEqual(expectedStatus);
    console.log(`its partitions reported UNAVAILABLE after ${Date.now() - killedAt} ms (broker lease ${leaseMs} ms)`);
    const fromVictim = (): number => [...received.first.keys()].filter((id) => down.has(Number(id.split(':')[0]))).length;
    const deliveredFromVictim = fromVictim();
    const victimRecords = [...acked.keys()].filter((id) => down.has(Number(id.split(':')[0]))).length;
    console.log(`killed ${victimId} (partitions ${[...down].join(',')}) with ${deliveredFromVictim} of its ${victimRecords} records delivered`);
    expect(partitionsByLeader(await admin.describeTopic(topic)).get(victimId)?.sort((a, b) => a - b)).toEqual([...down].sort((a, b) => a - b));

    // A publish to one of its partitions: explicit UNAVAILABLE from a live
    // broker (raw gRPC), and UNAVAILABLE from the SDK once its delivery
    // timeout runs out.
    // (The live broker may hear of the lapsed lease a moment after the
    // coordinator; until then it names the dead leader: NOT_LEADER.)
    const [downPartition] = down;
    const raw = clients(bootstrap);
    try {
      const attempt = (): Promise<string> =>
        publish(raw.producer, { topic, partition: downPartition, records: [{ key: Buffer.from('x'), value: Buffer.from('lost?'), headers: {} }] }).then(
          () => 'appended',
          (error: unknown) => {
            const braid = fromGrpcError(error);
            return `${Status[braid.code]} ${braid.reason}`;
          },
        );
      await expect.poll(attempt, { timeout: 10_000, interval: 100 }).toBe('UNAVAILABLE PARTITION_UNAVAILABLE');
    } finally {
      raw.close();
    }
    const impatient = new Producer({ brokers: bootstrap, deliveryTimeoutMs: 3_000 });
    try {
      const failure = await impatient.send(topic, { partition: downPartition, value: 'lost?' }).then(
        () => undefined,
        (error: unknown) => fromGrpcError(error),
      );
      expect(failure).toMatchObject({ code: Status.UNAVAILABLE, reason: 'PARTITION_UNAVAILABLE' });
    } finally {
      await impatient.close({ timeoutMs: 1_000 });
    }

    // The other partitions keep accepting publishes and delivering them.
    const liveKeys = everyKey.filter((k) => !down.has(partitionOfKey.get(k) ?? -1));
    const beforeOutageRounds = acked.size;
    for (let round = 0; round < 10; round++) await sendRound(liveKeys);
    const duringOutage = [...acked.keys()].slice(beforeOutageRounds);
    expect(duringOutage.length).toBe(liveKeys.length * 10);
    await expect.poll(() => duringOutage.filter((id) => !received.first.has(id)).length, { timeout: 60_000, interval: 100 }).toBe(0);
    // Nothing of its partitions came while it was down.
    expect(fromVictim()).toBe(deliveredFromVictim);

    await cluster.restartBroker(undefined, victim);
    const restartedAt = Date.now();
    await expect
      .poll(async () => (await admin.describeTopic(topic)).partitions.map((p) => p.status), { timeout: 30_000, interval: 100 })
      .toEqual(Array(12).fill(PartitionStatus.PARTITION_STATUS_AVAILABLE));
    // Its partitions accept publishes again, and every key continues its sequence.
    for (let round = 0; round < 2; round++) await sendRound(everyKey);

    await expect.poll(() => [...acked.keys()].filter((id) => !received.first.has(id)).length, { timeout: 60_000, interval: 100 }).toBe(0);
    console.log(`all ${acked.size} acknowledged records delivered ${Date.now() - restartedAt} ms after the restart (${received.again.length} delivered again)`);
    await expect.poll(() => committedOffsets(topic, 'audit'), { timeout: 60_000, interval: 200 }).toEqual(endOffsets(acked));
    await consumer.close();
    await run;

    expect([...received.first.keys()].filter((id) => !acked.has(id))).toEqual([]);
    expect(received.first.size).toBe(acked.size);
    expect(received.sequences.size).toBe(keys);
    expect(received.orderViolations((key) => Array.from({ length: sentPerKey.get(Number(key.slice(4))) ?? 0 }, (_, i) => i))).toEqual([]);
    expect(received.overlaps).toEqual([]);
    // Only the killed broker's records came again: the streams from the
    // other brokers never broke.
    expect(received.again.filter(({ id }) => !down.has(Number(id.split(':')[0])))).toEqual([]);
  }, 240_000);
});
