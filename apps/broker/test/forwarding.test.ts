// Forwarding mode (issue 6: "an optional forwarding mode serves thin
// clients"): with `--forward-to-leader`, a client that knows one broker and
// no metadata publishes records for every partition there (unary and
// pipelined over PublishStream); the broker publishes the records of
// partitions led elsewhere at their leader. Every record lands at its
// leader once, at the offset the client was told, in the client's order per
// key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '@braid/client';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { PublishStreamClient, clients, createTopic, publish } from './grpc-helpers.js';

const partitions = 6;
const keys = 60;

let cluster: LocalCluster;
let admin: Admin;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokers: 2, brokerArgs: ['--forward-to-leader'] });
  admin = new Admin({ brokers: cluster.brokerAddresses[0] ?? '' });
}, 120_000);

afterAll(async () => {
  admin.close();
  await cluster.destroy();
});

/** Every record of `topic`, partition by partition, as [partition, offset, key, value]. */
async function readAll(topic: string): Promise<[number, number, string, string][]> {
  const all: [number, number, string, string][] = [];
  for (let partition = 0; partition < partitions; partition++) {
    let from = 0;
    for (;;) {
      const read = await admin.readRecords(topic, partition, { fromOffset: from, maxRecords: 1000 });
      for (const r of read.records) all.push([r.partition, r.offset, Buffer.from(r.key ?? []).toString(), Buffer.from(r.value).toString()]);
      if (read.records.length === 0 || read.nextOffset >= read.highWatermark) break;
      from = read.nextOffset;
    }
  }
  return all;
}

describe('forwarding mode', () => {
  it('publishes the records of partitions led elsewhere at their leader, at the offsets answered, in order per key', async () => {
    const thin = clients(cluster.brokerAddresses[0] ?? '');
    await createTopic(thin.admin, 'thin', { partitions });
    const leaders = new Set((await admin.describeTopic('thin')).partitions.map((p) => p.leaderId));
    expect(leaders.size).toBe(2);

    const answered = new Map<string, [number, number]>();
    const record = (round: number, k: number): { key: Buffer; value: Buffer; headers: Record<string, never> } => ({
      key: Buffer.from(`key-${k}`),
      value: Buffer.from(`${round}`),
      headers: {},
    });
    // Unary: one batch spanning every partition.
    const first = await publish(thin.producer, { topic: 'thin', records: Array.from({ length: keys }, (_, k) => record(0, k)) });
    first.results.forEach((result, k) => { answered.set(`key-${k}/0`, [result.partition, result.offset]); });
    expect(new Set(first.results.map((r) => r.partition)).size).toBe(partitions);
    // Pipelined: 20 batches in flight at once on one stream.
    const stream = new PublishStreamClient(thin.producer);
    const rounds = Array.from({ length: 20 }, (_, i) => i + 1);
    const responses = await Promise.all(rounds.map((round) => stream.send({ topic: 'thin', records: Array.from({ length: keys }, (_, k) => record(round, k)) })));
    responses.forEach((response, i) => {
      expect(response.result?.$case).toBe('ok');
      if (response.result?.$case !== 'ok') return;
      response.result.value.results.forEach((result, k) => { answered.set(`key-${k}/${i + 1}`, [result.partition, result.offset]); });
    });
    stream.end();
    thin.close();

    const stored = await readAll('thin');
    expect(stored).toHaveLength(keys * 21);
    // Each record at the partition and offset the client was told.
    for (const [partition, offset, key, value] of stored) expect(answered.get(`${key}/${value}`)).toEqual([partition, offset]);
    // Per key, rounds in the order the client sent them.
    const perKey = new Map<string, number[]>();
    for (const [, , key, value] of stored) perKey.set(key, [...(perKey.get(key) ?? []), Number(value)]);
    expect(perKey.size).toBe(keys);
    for (const sequence of perKey.values()) expect(sequence).toEqual([0, ...rounds]);
  }, 120_000);
});
