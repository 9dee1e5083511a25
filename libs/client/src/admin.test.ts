import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Durability, PartitionStatus } from '@braid/proto';
import { Admin } from './admin.js';
import { FakeBroker } from './testing.js';

let broker: FakeBroker;
let admin: Admin;

beforeAll(async () => {
  broker = await FakeBroker.start();
  admin = new Admin({ brokers: broker.address });
});

afterAll(() => {
  admin.close();
  broker.stop();
});

describe('Admin', () => {
  it('creates, lists, describes and deletes topics', async () => {
    const created = await admin.createTopic('orders', { partitions: 3, durability: Durability.DURABILITY_WRITE });
    expect(created).toMatchObject({ name: 'orders', config: { partitions: 3, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 1048576 } });
    await admin.createTopic('audit');
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['audit', 'orders']);
    const described = await admin.describeTopic('orders');
    expect(described.partitions.map((p) => [p.partition, p.leaderAddress, p.status])).toEqual([
      [0, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
      [1, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
      [2, broker.address, PartitionStatus.PARTITION_STATUS_AVAILABLE],
    ]);
    const metadata = await admin.getMetadata(['orders']);
    expect(metadata.topics.map((t) => t.topic?.name)).toEqual(['orders']);
    await admin.deleteTopic('audit');
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['orders']);
  });

  it('rejects with the server status as a BraidError', async () => {
    await admin.createTopic('dup');
    await expect(admin.createTopic('dup')).rejects.toMatchObject({ code: Status.ALREADY_EXISTS, retriable: false });
    await expect(admin.describeTopic('missing')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND', message: 'topic "missing" does not exist' });
    await expect(admin.createTopic('bad name')).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('tries the next address when one cannot be reached, and rejects UNAVAILABLE when none can', async () => {
    const down = await FakeBroker.start();
    const downAddress = down.address;
    down.stop();
    const failover = new Admin({ brokers: [downAddress, broker.address], timeoutMs: 3000 });
    await expect(failover.listTopics()).resolves.toEqual(expect.any(Array));
    failover.close();
    const nowhere = new Admin({ brokers: downAddress, timeoutMs: 3000 });
    await expect(nowhere.listTopics()).rejects.toMatchObject({ code: Status.UNAVAILABLE, retriable: true });
    nowhere.close();
  });

  it('needs at least one address', () => {
    expect(() => new Admin({ brokers: ' , ' })).toThrow(/at least one broker/);
  });
});
