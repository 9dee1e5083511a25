import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { balancedRendezvous, partitionItem } from '@braid/partitioning';
import { Durability, TopicConfig } from '@braid/proto';
import { metadataKeys } from './metadata-keys.js';
import { buildCoordinatorParts } from './testing.js';
import type { CoordinatorParts } from './testing.js';

const built: CoordinatorParts[] = [];

async function parts(options: Parameters<typeof buildCoordinatorParts>[0] = {}): Promise<CoordinatorParts> {
  const p = await buildCoordinatorParts(options);
  built.push(p);
  return p;
}

afterEach(async () => {
  for (const p of built.splice(0)) await p.brokers.stop();
});

async function withBrokers(...ids: string[]): Promise<CoordinatorParts> {
  const p = await parts();
  for (const [i, id] of ids.entries()) await p.brokers.register(id, `127.0.0.1:${9000 + i}`);
  return p;
}

describe('TopicRegistry', () => {
  it('refuses to create a topic while no broker is live', async () => {
    const { topics } = await parts();
    const creating = topics.create('orders', undefined);
    await expect(creating).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'FAILED_PRECONDITION' });
    await expect(creating).rejects.toThrow(/no live brokers/);
    expect(topics.list()).toEqual([]);
  });

  it('creates a topic with defaults, a fresh id and even rendezvous placement at epoch 1, and bumps the version', async () => {
    const { topics, changes, store } = await withBrokers('b1', 'b2', 'b3');
    const before = changes.version;
    const topic = await topics.create('orders', TopicConfig.fromPartial({ partitions: 12, durability: Durability.DURABILITY_WRITE }));
    expect(topic).toMatchObject({
      name: 'orders',
      id: 1,
      settings: { partitions: 12, retentionMs: 0, retentionBytes: 0, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 1_048_576 },
    });
    const live = ['b1', 'b2', 'b3'];
    expect(topic.partitions).toEqual(
      balancedRendezvous(Array.from({ length: 12 }, (_, p) => partitionItem('orders', p)), live).map((leaderId) => ({ leaderId, leaderEpoch: 1 })),
    );
    // Evenly: 4 partitions per broker.
    expect(live.map((id) => topic.partitions.filter((a) => a.leaderId === id).length)).toEqual([4, 4, 4]);
    expect(changes.version).toBe(before + 1);
    expect(store.json(metadataKeys.topic('orders'))).toMatchObject({ id: 1, settings: { partitions: 12, durability: 'DURABILITY_WRITE' } });
    expect(store.json(metadataKeys.placement(1))).toEqual({ topicId: 1, partitions: topic.partitions });
    expect((await topics.create('payments', undefined)).id).toBe(2);
  });

  it('rejects a duplicate with ALREADY_EXISTS, also when two creates race', async () => {
    const { topics } = await withBrokers('b1');
    const outcomes = await Promise.allSettled([topics.create('orders', undefined), topics.create('orders', undefined)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    await expect(topics.create('orders', undefined)).rejects.toMatchObject({ code: Status.ALREADY_EXISTS, message: 'topic "orders" already exists' });
    expect(topics.list().map((t) => t.id)).toEqual([1]);
  });

  it.each(['', '.', '..', 'a'.repeat(250), 'has space', 'slash/name', 'ünicode'])('rejects the name %j with INVALID_ARGUMENT', async (name) => {
    const { topics } = await withBrokers('b1');
    await expect(topics.create(name, undefined)).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'INVALID_NAME' });
  });

  it('accepts names at the limits of the rules', async () => {
    const { topics } = await withBrokers('b1');
    for (const name of ['a', 'a'.repeat(249), '...', 'A-z_0.9']) await topics.create(name, undefined);
    expect(topics.list()).toHaveLength(4);
  });

  it('lists by name, gets, and deletes; unknown names are NOT_FOUND', async () => {
    const { topics } = await withBrokers('b1');
    for (const name of ['zeta', 'Alpha', 'beta']) await topics.create(name, undefined);
    expect(topics.list().map((t) => t.name)).toEqual(['Alpha', 'beta', 'zeta']);
    expect(topics.get('beta').name).toBe('beta');
    await topics.delete('beta');
    expect(topics.list().map((t) => t.name)).toEqual(['Alpha', 'zeta']);
    expect(() => topics.get('beta')).toThrow(expect.objectContaining({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' }) as Error);
    await expect(topics.delete('beta')).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
    await expect(topics.delete('..')).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('never reuses an id, also across restarts and after deleting the newest topic', async () => {
    const first = await withBrokers('b1');
    await first.topics.create('a', undefined);
    const b = await first.topics.create('b', undefined);
    await first.topics.delete('b');
    await first.brokers.stop();

    const restarted = await parts({ store: first.store });
    await restarted.brokers.register('b1', '127.0.0.1:9000');
    const again = await restarted.topics.create('b', undefined);
    expect(again.id).toBeGreaterThan(b.id);
    expect(again.id).toBe(3);
  });

  it('keeps topics, settings and placement across a restart; brokers come back not live', async () => {
    const first = await withBrokers('b1', 'b2');
    const created = await first.topics.create('orders', TopicConfig.fromPartial({ partitions: 6, retentionMs: 60_000, retentionBytes: 1000 }));
    await first.brokers.stop();

    const restarted = await parts({ store: first.store });
    expect(restarted.topics.list()).toEqual([created]);
    expect(restarted.brokers.liveBrokerIds()).toEqual([]);
    expect(restarted.changes.version).toBeGreaterThan(first.changes.version);
  });

  it('keeps placement when brokers join or leave after creation', async () => {
    const p = await parts({ leaseTtlMs: 1000, checkIntervalMs: 100 });
    await p.brokers.register('b1', '127.0.0.1:9001');
    await p.brokers.register('b2', '127.0.0.1:9002');
    const created = await p.topics.create('orders', TopicConfig.fromPartial({ partitions: 16 }));
    await p.brokers.register('b3', '127.0.0.1:9003');
    await p.clock.advance(1100); // every lease lapses
    expect(p.brokers.liveBrokerIds()).toEqual([]);
    expect(p.topics.get('orders').partitions).toEqual(created.partitions);
  });

  it('writes nothing when the store fails', async () => {
    const { topics, store, changes } = await withBrokers('b1');
    const version = changes.version;
    store.failNextCommit(new Error('disk full'));
    await expect(topics.create('orders', undefined)).rejects.toThrow('disk full');
    expect(topics.list()).toEqual([]);
    expect(changes.version).toBe(version);
    // The id was not consumed either.
    expect((await topics.create('orders', undefined)).id).toBe(1);
  });
});
