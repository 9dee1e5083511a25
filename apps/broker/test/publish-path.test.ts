// The publish path end to end: real coordinator and broker processes, real
// RocksDB. Records are checked by reading the broker's log after it stopped.
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Durability, StoredRecord } from '@braid/proto';
import { LogStore } from '@braid/storage';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { PublishStreamClient, clients, createTopic, failure, publish } from './grpc-helpers.js';

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokerArgs: ['--memory-watermark-bytes', String(8 * 1024 * 1024)] });
  api = clients(cluster.broker.address);
});

afterAll(async () => {
  api.close();
  await cluster.destroy();
});

async function readLog(topicId: number, partitions: number): Promise<Map<number, { offset: number; record: StoredRecord }[]>> {
  const store = await LogStore.open(join(cluster.brokerDataDir(), 'log'));
  try {
    const logs = new Map<number, { offset: number; record: StoredRecord }[]>();
    for (let p = 0; p < partitions; p++) {
      const entries = await store.partition(topicId, p).read(0, { maxRecords: 1_000_000, maxBytes: 1 << 30 });
      logs.set(p, entries.map((e) => ({ offset: e.offset, record: StoredRecord.decode(e.payload) })));
    }
    return logs;
  } finally {
    await store.close();
  }
}

describe('publish path', () => {
  it('stores 100,000 keyed records over 8 partitions at their acknowledged offsets, in key order', async () => {
    const topic = await createTopic(api.admin, 'orders', { partitions: 8, durability: Durability.DURABILITY_WRITE });
    const stream = new PublishStreamClient(api.producer);
    const keys = 1000;
    const perBatch = 500;
    const total = 100_000;
    const acked: { key: string; seq: number; partition: number; offset: number }[] = [];
    const pending: Promise<void>[] = [];
    for (let base = 0; base < total; base += perBatch) {
      const batch = Array.from({ length: perBatch }, (_, i) => {
        const seq = base + i;
        return { key: `user-${seq % keys}`, seq };
      });
      pending.push(
        stream
          .send({ topic: 'orders', records: batch.map((r) => ({ key: Buffer.from(r.key), value: Buffer.from(`${r.key}:${r.seq}`), headers: {} })) })
          .then((response) => {
            if (response.result?.$case !== 'ok') throw new Error(`batch failed: ${JSON.stringify(response.result)}`);
            response.result.value.results.forEach((result, i) => {
              const record = batch[i];
              if (record) acked.push({ ...record, partition: result.partition, offset: result.offset });
            });
          }),
      );
      // Keep a bounded number of batches in flight, as a real producer does.
      if (pending.length >= 20) await pending.shift();
    }
    await Promise.all(pending);
    stream.end();
    expect(acked).toHaveLength(total);

    await cluster.broker.stop();
    const logs = await readLog(topic.id, 8);
    await cluster.restartBroker();
    api.close();
    api = clients(cluster.broker.address);

    const byPartition = new Map<number, Map<number, StoredRecord>>();
    for (const [p, entries] of logs) byPartition.set(p, new Map(entries.map((e) => [e.offset, e.record])));
    let stored = 0;
    for (const entries of logs.values()) stored += entries.length;
    expect(stored).toBe(total);

    const lastOffsetOfKey = new Map<string, { partition: number; offset: number; seq: number }>();
    for (const ack of acked.sort((a, b) => a.seq - b.seq)) {
      const record = byPartition.get(ack.partition)?.get(ack.offset);
      expect(Buffer.from(record?.value ?? []).toString()).toBe(`${ack.key}:${ack.seq}`);
      const last = lastOffsetOfKey.get(ack.key);
      if (last) {
        // Same key, same partition, and a later publish has a higher offset.
        expect(ack.partition).toBe(last.partition);
        expect(ack.offset).toBeGreaterThan(last.offset);
      }
      lastOffsetOfKey.set(ack.key, ack);
    }
    // The keys spread over every partition.
    expect(new Set(acked.map((a) => a.partition)).size).toBe(8);
  });

  it('answers bad input with precise statuses and keeps the connection usable', async () => {
    await createTopic(api.admin, 'strict', { partitions: 2, maxRecordBytes: 1024 });
    const good = { topic: 'strict', records: [{ value: Buffer.from('ok'), partition: 0, headers: {} }] };

    const unknown = await failure(publish(api.producer, { topic: 'nope', records: good.records }));
    expect(unknown.code).toBe(Status.NOT_FOUND);
    expect(unknown.reason).toBe('TOPIC_NOT_FOUND');
    await expect(publish(api.producer, good)).resolves.toMatchObject({ results: [{ offset: 0 }] });

    const tooLarge = await failure(publish(api.producer, { topic: 'strict', records: [{ value: Buffer.alloc(2000), headers: {} }] }));
    expect(tooLarge.code).toBe(Status.INVALID_ARGUMENT);
    expect(tooLarge.reason).toBe('RECORD_TOO_LARGE');
    expect(tooLarge.message).toContain('1024');
    await expect(publish(api.producer, good)).resolves.toMatchObject({ results: [{ offset: 1 }] });

    const outOfRange = await failure(publish(api.producer, { topic: 'strict', records: [{ value: Buffer.from('x'), partition: 2, headers: {} }] }));
    expect(outOfRange.code).toBe(Status.INVALID_ARGUMENT);
    expect(outOfRange.reason).toBe('PARTITION_OUT_OF_RANGE');

    const empty = await failure(publish(api.producer, { topic: 'strict', records: [] }));
    expect(empty.code).toBe(Status.INVALID_ARGUMENT);

    const noPartition = await failure(publish(api.producer, { topic: 'strict', producerId: 'p', records: good.records }));
    expect(noPartition.code).toBe(Status.INVALID_ARGUMENT);

    const staleEpoch = await failure(publish(api.producer, { topic: 'strict', partition: 0, leaderEpoch: 99, records: good.records }));
    expect(staleEpoch.code).toBe(Status.FAILED_PRECONDITION);
    expect(staleEpoch.reason).toBe('STALE_EPOCH');

    await expect(publish(api.producer, good)).resolves.toMatchObject({ results: [{ offset: 2 }] });
  });

  it('refuses a publish beyond the memory watermark with RESOURCE_EXHAUSTED and a retry-after hint', async () => {
    await createTopic(api.admin, 'big', { partitions: 1, maxRecordBytes: 4 * 1024 * 1024 });
    // 9 MiB in one batch is over the broker's 8 MiB watermark.
    const records = Array.from({ length: 3 }, () => ({ value: Buffer.alloc(3 * 1024 * 1024), headers: {} }));
    const refused = await failure(publish(api.producer, { topic: 'big', records }));
    expect(refused.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(refused.reason).toBe('MEMORY_PRESSURE');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    await expect(publish(api.producer, { topic: 'big', records: records.slice(0, 1) })).resolves.toMatchObject({ results: [{ offset: 0 }] });
  });

  it('answers a failed batch on a stream with a StreamError and keeps the stream open', async () => {
    await createTopic(api.admin, 'streamed', { partitions: 1 });
    const stream = new PublishStreamClient(api.producer);
    const bad = await stream.send({ topic: 'missing', records: [{ value: Buffer.from('x'), headers: {} }] });
    expect(bad.result?.$case).toBe('error');
    if (bad.result?.$case === 'error') expect(bad.result.value.code).toBe(Status.NOT_FOUND);
    const ok = await stream.send({ topic: 'streamed', records: [{ value: Buffer.from('y'), headers: {} }] });
    expect(ok.result).toMatchObject({ $case: 'ok', value: { results: [{ partition: 0, offset: 0 }] } });
    stream.end();
  });

  it('drops duplicate batches of an idempotent producer and returns the original offsets', async () => {
    await createTopic(api.admin, 'idem', { partitions: 2 });
    const batch = { topic: 'idem', producerId: 'producer-1', partition: 1, baseSequence: 0, records: [{ value: Buffer.from('a'), headers: {} }, { value: Buffer.from('b'), headers: {} }] };
    const first = await publish(api.producer, batch);
    const retried = await publish(api.producer, batch);
    expect(retried.results.map((r) => r.offset)).toEqual(first.results.map((r) => r.offset));
    expect(retried.results.every((r) => r.duplicate)).toBe(true);
    const next = await publish(api.producer, { ...batch, baseSequence: 2 });
    expect(next.results.map((r) => r.offset)).toEqual([2, 3]);
    const gap = await failure(publish(api.producer, { ...batch, baseSequence: 10 }));
    expect(gap.code).toBe(Status.INVALID_ARGUMENT);
  });

  it('learns of a new topic without a restart and keeps publishing while the coordinator is down', async () => {
    // Create the topic at the coordinator directly: the broker hears of it
    // only through its metadata watch.
    const direct = clients(cluster.coordinator.address);
    await createTopic(direct.admin, 'late', { partitions: 3 });
    direct.close();
    // The watch pushes the change within milliseconds; give it ample time,
    // then take the coordinator away: a publish can only succeed now if the
    // broker already knows the topic (a cache miss would need the coordinator).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await cluster.coordinator.kill9();
    try {
      const response = await publish(api.producer, { topic: 'late', records: [{ key: Buffer.from('k'), value: Buffer.from('v'), headers: {} }] });
      expect(response.results).toHaveLength(1);
    } finally {
      await cluster.restartCoordinator();
    }
  });
});
