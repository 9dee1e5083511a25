// kill -9 the broker in the middle of an fsync publish load: every
// acknowledged record must be there after the restart, and the idempotent
// producer's retries must leave no duplicates.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Durability, StoredRecord } from '@braid/proto';
import type { PublishStreamResponse } from '@braid/proto';
import { LogStore } from '@braid/storage';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { PublishStreamClient, clients, createTopic, publish } from './grpc-helpers.js';
import type { PublishInput } from './grpc-helpers.js';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster();
});

afterAll(async () => {
  await cluster.destroy();
});

interface SentBatch {
  partition: number;
  baseSequence: number;
  values: string[];
  acked: boolean;
}

const partitions = 4;
const perBatch = 50;

function batchRequest(batch: SentBatch): PublishInput {
  return {
    topic: 'durable',
    producerId: 'crash-test-producer',
    partition: batch.partition,
    baseSequence: batch.baseSequence,
    records: batch.values.map((v) => ({ value: Buffer.from(v), headers: {} })),
  };
}

describe('crash recovery', () => {
  it('loses no acknowledged record across kill -9 and dedupes the producer retries', async () => {
    let api = clients(cluster.broker.address);
    const topic = await createTopic(api.admin, 'durable', { partitions, durability: Durability.DURABILITY_FSYNC });
    const sent: SentBatch[][] = Array.from({ length: partitions }, () => []);
    const stream = new PublishStreamClient(api.producer);
    let streamClosed = false;
    void stream.closed.then(() => { streamClosed = true; });

    const pump = async (partition: number): Promise<void> => {
      let sequence = 0;
      const inFlight: Promise<PublishStreamResponse>[] = [];
      while (!streamClosed) {
        const batch: SentBatch = {
          partition,
          baseSequence: sequence,
          values: Array.from({ length: perBatch }, (_, i) => `${partition}:${sequence + i}`),
          acked: false,
        };
        sequence += perBatch;
        sent[partition]?.push(batch);
        inFlight.push(
          stream.send(batchRequest(batch)).then((response) => {
            if (response.result?.$case === 'ok') batch.acked = true;
            return response;
          }),
        );
        if (inFlight.length >= 4) await Promise.race([inFlight.shift(), stream.closed]);
      }
    };
    const pumps = Array.from({ length: partitions }, (_, p) => pump(p));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await cluster.broker.kill9();
    await Promise.all(pumps);

    const ackedBefore = sent.flat().filter((b) => b.acked);
    expect(ackedBefore.length).toBeGreaterThan(10);

    await cluster.restartBroker();
    api.close();
    api = clients(cluster.broker.address);
    // The producer retries, per partition and in order, every batch it has
    // no answer for, plus the last answered one (as if its answer had been
    // lost): the broker must append each record once. (The broker remembers
    // a producer's last five batches per partition, as Kafka does; at most
    // four were in flight here.)
    let duplicatesReported = 0;
    for (const batches of sent) {
      const firstUnacked = batches.findIndex((b) => !b.acked);
      const from = Math.max(0, (firstUnacked < 0 ? batches.length : firstUnacked) - 1);
      for (const batch of batches.slice(from)) {
        const response = await publish(api.producer, batchRequest(batch));
        if (response.results.every((r) => r.duplicate)) duplicatesReported++;
        batch.acked = true;
      }
    }
    expect(duplicatesReported).toBeGreaterThanOrEqual(partitions);
    await cluster.broker.stop();

    const store = await LogStore.open(join(cluster.brokerDataDir(), 'log'));
    try {
      for (let p = 0; p < partitions; p++) {
        const entries = await store.partition(topic.id, p).read(0, { maxRecords: 10_000_000, maxBytes: 1 << 30 });
        const values = entries.map((e) => Buffer.from(StoredRecord.decode(e.payload).value).toString());
        const expected = (sent[p] ?? []).flatMap((b) => b.values);
        // Every record exactly once, in sequence order: nothing acknowledged
        // was lost and no retry was appended twice.
        expect(values).toEqual(expected);
        // Offsets are dense.
        expect(entries.map((e) => e.offset)).toEqual(entries.map((_, i) => i));
      }
    } finally {
      await store.close();
      await cluster.restartBroker();
      api.close();
    }
  });
});
