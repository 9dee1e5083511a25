// AdminService.ReadRecords on real brokers: records of any partition read
// without a subscription (decoded, topic/partition/offset filled in), paging,
// limits, the log start after retention, precise statuses for bad input, and
// NOT_LEADER redirects (followed by the SDK's Admin.readRecords) between two
// brokers and from the coordinator.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '@braid/client';
import { AdminServiceService, ReadRecordsRequest } from '@braid/proto';
import type { AdminServiceClient, DescribeTopicResponse, ReadRecordsResponse } from '@braid/proto';
import { callEveryRpc, failure, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import { call, clients, createTopic, publish } from './grpc-helpers.js';

let cluster: LocalCluster;
let api: ReturnType<typeof clients>;

beforeAll(async () => {
  cluster = await startLocalCluster({ brokerArgs: ['--retention-check-interval-ms', '100'] });
  api = clients(cluster.broker.address);
});

afterAll(async () => {
  api.close();
  await cluster.destroy();
});

function read(admin: AdminServiceClient, request: Parameters<typeof ReadRecordsRequest.fromPartial>[0]): Promise<ReadRecordsResponse> {
  return call((cb) => { admin.readRecords(ReadRecordsRequest.fromPartial(request), cb); });
}

function describeTopic(admin: AdminServiceClient, name: string): Promise<DescribeTopicResponse> {
  return call((cb) => { admin.describeTopic({ name }, cb); });
}

describe('ReadRecords', () => {
  it('returns stored records with topic, partition and offset, pages with next_offset, and moves no cursor', async () => {
    await createTopic(api.admin, 'reads', { partitions: 2 });
    await publish(api.producer, {
      topic: 'reads',
      records: [
        { key: Buffer.from('user-1'), value: Buffer.from('{"n":0}'), headers: { source: 'test' }, partition: 1 },
        { value: Buffer.from('one'), headers: {}, partition: 1 },
        { key: Buffer.from('user-2'), value: Buffer.from('two'), headers: { a: 'b' }, partition: 1, delayMs: 60_000 },
      ],
    });
    const first = await read(api.admin, { topic: 'reads', partition: 1, fromOffset: 0, maxRecords: 2 });
    expect(first).toMatchObject({ nextOffset: 2, highWatermark: 3, logStartOffset: 0 });
    expect(first.records.map((r) => [r.topic, r.partition, r.offset, r.key?.toString(), r.value.toString(), r.headers])).toEqual([
      ['reads', 1, 0, 'user-1', '{"n":0}', { source: 'test' }],
      ['reads', 1, 1, undefined, 'one', {}],
    ]);
    expect(first.records[0]?.publishTimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(first.records[0]?.deliverAtMs).toBe(0);

    const second = await read(api.admin, { topic: 'reads', partition: 1, fromOffset: first.nextOffset });
    expect(second.records.map((r) => [r.offset, r.value.toString()])).toEqual([[2, 'two']]);
    // A delayed record is readable at once, with its delivery time.
    expect(second.records[0]?.deliverAtMs).toBeGreaterThan(Date.now() + 30_000);
    expect(second.nextOffset).toBe(3);

    // At (or past) the high watermark: nothing yet, continue from where asked.
    expect(await read(api.admin, { topic: 'reads', partition: 1, fromOffset: 3 })).toEqual({ records: [], nextOffset: 3, highWatermark: 3, logStartOffset: 0 });
    expect(await read(api.admin, { topic: 'reads', partition: 1, fromOffset: 10 })).toEqual({ records: [], nextOffset: 10, highWatermark: 3, logStartOffset: 0 });
    expect(await read(api.admin, { topic: 'reads', partition: 0 })).toEqual({ records: [], nextOffset: 0, highWatermark: 0, logStartOffset: 0 });

    // Reading twice gives the same answer: nothing was consumed.
    expect(await read(api.admin, { topic: 'reads', partition: 1, maxRecords: 2 })).toEqual(first);
  });

  it('stops at max_bytes but always returns at least one record', async () => {
    await createTopic(api.admin, 'big', { partitions: 1 });
    const value = Buffer.alloc(1000, 'x');
    await publish(api.producer, { topic: 'big', records: Array.from({ length: 10 }, () => ({ value, headers: {} })) });
    const one = await read(api.admin, { topic: 'big', partition: 0, maxBytes: 10 });
    expect(one.records.map((r) => r.offset)).toEqual([0]);
    const some = await read(api.admin, { topic: 'big', partition: 0, maxBytes: 3500 });
    expect(some.records.length).toBeGreaterThanOrEqual(2);
    expect(some.records.length).toBeLessThanOrEqual(3);
    expect(some.nextOffset).toBe(some.records.length);
    // Defaults: 100 records, 1 MiB: all ten.
    expect((await read(api.admin, { topic: 'big', partition: 0 })).records).toHaveLength(10);
  });

  it('starts at the log start when from_offset is below it (records deleted by retention) and says so', async () => {
    await createTopic(api.admin, 'trimmed', { partitions: 1, retentionBytes: 5_000 });
    const value = Buffer.alloc(1000, 'y');
    for (let i = 0; i < 4; i++) await publish(api.producer, { topic: 'trimmed', records: Array.from({ length: 5 }, () => ({ value, headers: {} })) });
    await expect
      .poll(async () => (await describeTopic(api.admin, 'trimmed')).partitions[0]?.logStartOffset, { timeout: 15_000, interval: 200 })
      .toBeGreaterThan(10);
    const response = await read(api.admin, { topic: 'trimmed', partition: 0, fromOffset: 0, maxRecords: 1 });
    expect(response.logStartOffset).toBeGreaterThan(10);
    expect(response.records.map((r) => r.offset)).toEqual([response.logStartOffset]);
    expect(response.nextOffset).toBe(response.logStartOffset + 1);
    expect(response.highWatermark).toBe(20);
  });

  it('answers bad input with precise statuses and keeps serving', async () => {
    await createTopic(api.admin, 'strict', { partitions: 2 });
    const bad = (request: Parameters<typeof ReadRecordsRequest.fromPartial>[0]) => failure(read(api.admin, request));
    expect(await bad({ topic: 'missing', partition: 0 })).toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND', message: 'topic "missing" does not exist' });
    expect(await bad({ topic: '', partition: 0 })).toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'INVALID_NAME' });
    expect(await bad({ topic: 'strict', partition: 2 })).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      reason: 'PARTITION_OUT_OF_RANGE',
      message: 'partition 2 out of range for topic "strict" with 2 partitions (valid: 0-1)',
    });
    expect(await bad({ topic: 'strict', partition: -1 })).toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'PARTITION_OUT_OF_RANGE' });
    expect(await bad({ topic: 'strict', partition: 0, fromOffset: -5 })).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      message: 'from_offset must not be negative, got -5',
    });
    expect(await bad({ topic: 'strict', partition: 0, maxRecords: 1001 })).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      message: 'max_records must be 1-1000 (or 0 for the default 100), got 1001',
    });
    expect(await bad({ topic: 'strict', partition: 0, maxRecords: -1 })).toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(await bad({ topic: 'strict', partition: 0, maxBytes: 4 * 1024 * 1024 + 1 })).toMatchObject({
      code: Status.INVALID_ARGUMENT,
      message: 'max_bytes must be 1-4194304 (or 0 for the default 1048576), got 4194305',
    });

    // Every AdminService RPC with empty input, and ReadRecords with a partition out of range: a precise status each, no crash.
    const cases: Record<string, Record<string, unknown>>[] = [{}, { readRecords: { topic: 'strict', partition: 9 } }];
    for (const requests of cases) {
      const outcomes = await callEveryRpc(cluster.broker.address, AdminServiceService, { requests });
      const readRecords = outcomes.find((o) => o.path === '/braid.v1.AdminService/ReadRecords');
      expect(readRecords?.error?.code).toBe(Status.INVALID_ARGUMENT);
      expect(readRecords?.error?.reason).toBe('readRecords' in requests ? 'PARTITION_OUT_OF_RANGE' : 'INVALID_NAME');
      for (const { path, error } of outcomes) expect([Status.UNKNOWN, Status.UNAVAILABLE], path).not.toContain(error?.code);
    }
    expect(cluster.broker.alive).toBe(true);
    expect((await read(api.admin, { topic: 'strict', partition: 0 })).records).toEqual([]);
  });
});

describe('ReadRecords with two brokers', () => {
  let second: AppProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'braid-read-records-'));
    second = await startApp('broker', { args: ['--data-dir', dataDir, '--coordinator', cluster.coordinator.address] });
  });

  afterAll(async () => {
    await second.kill9();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers NOT_LEADER with the leader address for a partition led elsewhere; Admin.readRecords follows it, from a broker or the coordinator', async () => {
    // Enough partitions that each broker leads some (rendezvous placement over two brokers).
    await createTopic(api.admin, 'spread', { partitions: 16 });
    const described = await describeTopic(api.admin, 'spread');
    const elsewhere = described.partitions.find((p) => p.leaderAddress === second.address);
    if (!elsewhere) throw new Error(`the second broker leads none of 16 partitions: ${JSON.stringify(described.partitions)}`);
    const there = clients(second.address);
    await publish(there.producer, { topic: 'spread', records: [{ value: Buffer.from('there'), headers: {}, partition: elsewhere.partition }] });
    there.close();

    const error = await failure(read(api.admin, { topic: 'spread', partition: elsewhere.partition }));
    expect(error).toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'NOT_LEADER', leaderAddress: second.address });

    for (const address of [cluster.broker.address, cluster.coordinator.address]) {
      const admin = new Admin({ brokers: address });
      try {
        const response = await admin.readRecords('spread', elsewhere.partition);
        expect(response.records.map((r) => [r.partition, r.offset, r.value.toString()])).toEqual([[elsewhere.partition, 0, 'there']]);
        await expect(admin.readRecords('spread', 99)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'PARTITION_OUT_OF_RANGE' });
      } finally {
        admin.close();
      }
    }
  });
});
