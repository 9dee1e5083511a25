import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionItem, balancedRendezvous } from '@braid/partitioning';
import { CreateTopicRequest, Durability, PartitionStatus } from '@braid/proto';
import type { TopicConfig } from '@braid/proto';
import { startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { connect, registerBroker, rpc, rpcError } from './clients.js';
import type { CoordinatorClients } from './clients.js';

let coordinator: AppProcess;
let dataDir: string;
let clients: CoordinatorClients;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-topics-'));
  // A lease longer than the test, so the fake brokers stay live without heartbeats.
  coordinator = await startApp('coordinator', { args: ['--data-dir', dataDir, '--broker-lease-ms', '600000'] });
  clients = connect(coordinator.address);
});

afterAll(async () => {
  clients.close();
  await coordinator.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const admin = (): CoordinatorClients['admin'] => clients.admin;
const createTopic = (name: string, config?: Partial<TopicConfig>) =>
  rpc(admin().createTopic.bind(admin()), CreateTopicRequest.fromPartial({ name, ...(config ? { config } : {}) }));
const listTopics = () => rpc(admin().listTopics.bind(admin()), {});
const describeTopic = (name: string) => rpc(admin().describeTopic.bind(admin()), { name });
const deleteTopic = (name: string) => rpc(admin().deleteTopic.bind(admin()), { name });

describe('topics through AdminService', () => {
  it('refuses to create a topic before any broker registered (FAILED_PRECONDITION)', async () => {
    const error = await rpcError(createTopic('early'));
    expect(error.code).toBe(Status.FAILED_PRECONDITION);
    expect(error.message).toContain('no live brokers');
  });

  it('creates, lists, describes and deletes topics', async () => {
    await registerBroker(clients, 'b1', '127.0.0.1:17401');
    await registerBroker(clients, 'b2', '127.0.0.1:17402');

    const created = await createTopic('orders', { partitions: 6, retentionMs: 3_600_000, durability: Durability.DURABILITY_WRITE });
    expect(created.topic).toMatchObject({
      name: 'orders',
      config: { partitions: 6, retentionMs: 3_600_000, retentionBytes: 0, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 1_048_576 },
    });
    expect(created.topic?.id).toBeGreaterThan(0);
    expect(created.topic?.createdAtMs).toBeGreaterThan(Date.now() - 60_000);
    const defaults = await createTopic('audit');
    expect(defaults.topic?.config).toEqual({ partitions: 1, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_FSYNC, maxRecordBytes: 1_048_576 });
    expect(defaults.topic?.id).not.toBe(created.topic?.id);

    expect((await listTopics()).topics.map((t) => t.name)).toEqual(['audit', 'orders']);

    const described = await describeTopic('orders');
    expect(described.topic).toEqual(created.topic);
    expect(described.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5]);
    const leaders = balancedRendezvous(described.partitions.map((p) => partitionItem('orders', p.partition)), ['b1', 'b2']);
    for (const p of described.partitions) {
      const leader = leaders[p.partition];
      expect(p).toMatchObject({ leaderId: leader, leaderAddress: leader === 'b1' ? '127.0.0.1:17401' : '127.0.0.1:17402', leaderEpoch: leader === 'b1' ? 1 : 2, status: PartitionStatus.PARTITION_STATUS_AVAILABLE });
    }

    await deleteTopic('audit');
    expect((await listTopics()).topics.map((t) => t.name)).toEqual(['orders']);
    expect((await rpcError(describeTopic('audit'))).code).toBe(Status.NOT_FOUND);
    // Created again under the same name: a new id, so it never sees the old data.
    const again = await createTopic('audit');
    expect(again.topic?.id).toBeGreaterThan(Math.max(created.topic?.id ?? 0, defaults.topic?.id ?? 0));
  });

  it.each([
    ['empty name', () => createTopic(''), Status.INVALID_ARGUMENT, 'invalid topic name'],
    ['name "."', () => createTopic('.'), Status.INVALID_ARGUMENT, 'must not be "." or ".."'],
    ['name ".."', () => createTopic('..'), Status.INVALID_ARGUMENT, 'must not be "." or ".."'],
    ['250-character name', () => createTopic('x'.repeat(250)), Status.INVALID_ARGUMENT, 'at most 249 characters (got 250)'],
    ['name with a space', () => createTopic('my topic'), Status.INVALID_ARGUMENT, 'may only contain'],
    ['negative partitions', () => createTopic('p', { partitions: -1 }), Status.INVALID_ARGUMENT, 'config.partitions must be between 1 and 4096'],
    ['4097 partitions', () => createTopic('p', { partitions: 4097 }), Status.INVALID_ARGUMENT, 'config.partitions must be between 1 and 4096'],
    ['negative retention_ms', () => createTopic('p', { retentionMs: -1 }), Status.INVALID_ARGUMENT, 'config.retention_ms must not be negative'],
    ['negative retention_bytes', () => createTopic('p', { retentionBytes: -1 }), Status.INVALID_ARGUMENT, 'config.retention_bytes must not be negative'],
    ['unknown durability', () => createTopic('p', { durability: Durability.UNRECOGNIZED }), Status.INVALID_ARGUMENT, 'config.durability is not a known Durability'],
    ['max_record_bytes over 32 MiB', () => createTopic('p', { maxRecordBytes: 64 * 1024 * 1024 }), Status.INVALID_ARGUMENT, 'config.max_record_bytes must be between 1 and 33554432'],
    ['duplicate create', () => createTopic('orders'), Status.ALREADY_EXISTS, 'topic "orders" already exists'],
    ['describe unknown', () => describeTopic('nope'), Status.NOT_FOUND, 'topic "nope" does not exist'],
    ['delete unknown', () => deleteTopic('nope'), Status.NOT_FOUND, 'topic "nope" does not exist'],
    ['describe bad name', () => describeTopic('..'), Status.INVALID_ARGUMENT, 'must not be "." or ".."'],
  ] as const)('answers %s with its status and a precise message; the connection then serves a good request', async (_what, call, code, message) => {
    const error = await rpcError(call());
    expect(error.code).toBe(code);
    expect(error.message).toContain(message);
    // Same client, same channel: still serving.
    expect((await listTopics()).topics.map((t) => t.name)).toContain('orders');
    expect(coordinator.alive).toBe(true);
  });

  it('answers GetMetadata for all topics or the ones asked for, NOT_FOUND for an unknown one', async () => {
    const all = await rpc(admin().getMetadata.bind(admin()), { topics: [] });
    expect(all.version).toBeGreaterThan(0);
    expect(all.brokers.map((b) => [b.brokerId, b.live])).toEqual([
      ['b1', true],
      ['b2', true],
    ]);
    expect(all.topics.map((t) => t.topic?.name)).toEqual(['audit', 'orders']);
    const one = await rpc(admin().getMetadata.bind(admin()), { topics: ['orders'] });
    expect(one.topics.map((t) => t.topic?.name)).toEqual(['orders']);
    expect(one.topics[0]?.partitions).toHaveLength(6);
    expect((await rpcError(rpc(admin().getMetadata.bind(admin()), { topics: ['orders', 'missing'] }))).code).toBe(Status.NOT_FOUND);
  });
});
