// Three coordinators on one etcd and a broker given all three: kill -9 the
// leading coordinator; another takes over within 10 s, the broker keeps
// publishing and delivering throughout (its data path does not need a
// coordinator), follows the new leader (heartbeats, watch, forwarded admin
// calls), and the metadata is intact. Prints the measured takeover time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer, checkHealth } from '@braid/client';
import { PartitionStatus, StartPosition } from '@braid/proto';
import type { GetMetadataResponse } from '@braid/proto';
import { startApp, startEtcd } from '@braid/testkit';
import type { AppProcess, EtcdServer } from '@braid/testkit';

/** Broker lease at the coordinators: short, so "still live a lease after the takeover" proves heartbeats reach the new leader. */
const brokerLeaseMs = 3000;

let etcd: EtcdServer;
let dataDir: string;
let coordinators: AppProcess[] = [];
let broker: AppProcess;

beforeAll(async () => {
  etcd = await startEtcd();
  dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-failover-'));
  coordinators = await Promise.all(
    [0, 1, 2].map((i) =>
      startApp('coordinator', {
        args: ['--data-dir', join(dataDir, `coordinator-${i}`), '--etcd-endpoints', etcd.endpoint, '--broker-lease-ms', String(brokerLeaseMs)],
        waitFor: 'listening',
      }),
    ),
  );
  broker = await startApp('broker', {
    args: ['--data-dir', join(dataDir, 'broker'), '--coordinator', coordinators.map((c) => c.address).join(','), '--heartbeat-interval-ms', '500'],
  });
}, 60_000);

afterAll(async () => {
  await Promise.all([broker.kill9(), ...coordinators.map((c) => c.kill9())]);
  await etcd.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const health = (c: AppProcess): Promise<string> => checkHealth(c.address, { timeoutMs: 500 }).catch(() => 'DOWN');

async function serving(candidates: AppProcess[]): Promise<AppProcess[]> {
  const statuses = await Promise.all(candidates.map(health));
  return candidates.filter((_, i) => statuses[i] === 'SERVING');
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, pauseMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
}

/** What must survive a failover: topics, partitions with leader and epoch, subscriptions with settings. */
function durable(metadata: GetMetadataResponse): unknown {
  return metadata.topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p) => [p.partition, p.leaderId, p.leaderEpoch]),
    subscriptions: t.subscriptions,
  }));
}

describe('coordinator failover on etcd', () => {
  it('kill -9 of the leading coordinator: another leads within 10 s; the broker and clients carry on; the metadata is intact', async () => {
    const leader = await until(async () => {
      const found = await serving(coordinators);
      return found.length === 1 ? found[0] : undefined;
    }, 'one coordinator to lead', 30_000);
    const standbys = coordinators.filter((c) => c !== leader);

    // Clients talk to the broker, which forwards admin calls to the leading coordinator.
    const admin = new Admin({ brokers: broker.address, timeoutMs: 5000 });
    const producer = new Producer({ brokers: broker.address });
    await admin.createTopic('orders', { partitions: 2 });
    await admin.createSubscription('orders', 'audit', { startPosition: StartPosition.START_POSITION_EARLIEST });
    const consumer = new Consumer({ brokers: broker.address, topic: 'orders', subscription: 'audit' });
    const received = new Set<string>();
    const consuming = (async () => {
      for await (const message of consumer) {
        received.add(message.value.toString());
        message.ack();
      }
    })();
    const sent: string[] = [];
    const publish = async (phase: string): Promise<void> => {
      const values = Array.from({ length: 20 }, (_, i) => `${phase}-${i}`);
      await Promise.all(values.map((value, i) => producer.send('orders', { key: `k${i % 5}`, value })));
      sent.push(...values);
    };
    await publish('before');
    const leaderAdmin = new Admin({ brokers: leader.address, timeoutMs: 5000 });
    const before = await leaderAdmin.getMetadata();
    leaderAdmin.close();
    expect(before.brokers.map((b) => b.live)).toEqual([true]);

    await leader.kill9();
    const killedAt = Date.now();
    // No coordinator leads now: publishing and delivering go on.
    await publish('during');
    expect(await serving(standbys)).toEqual([]);

    const next = await until(async () => (await serving(standbys))[0], 'a standby to take over', 15_000, 20);
    const takeoverMs = Date.now() - killedAt;
    console.log(`coordinator takeover after kill -9: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(10_000);
    await publish('after');

    // Everything published before, during and after reaches the subscription.
    await until(() => Promise.resolve(received.size === sent.length ? true : undefined), 'every record to be delivered', 20_000);
    expect([...received].sort()).toEqual([...sent].sort());

    // The metadata is intact on the new leader.
    const nextAdmin = new Admin({ brokers: next.address, timeoutMs: 5000 });
    const after = await nextAdmin.getMetadata();
    expect(durable(after)).toEqual(durable(before));
    expect(after.version).toBeGreaterThan(before.version);

    // The new leader serves admin calls forwarded by the broker.
    const created = await admin.createTopic('after-failover', { partitions: 1 });
    expect(created.name).toBe('after-failover');
    await producer.send('after-failover', { value: 'x' });

    // A full lease after the takeover the broker is still live: its heartbeats reach the new leader.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, killedAt + takeoverMs + brokerLeaseMs + 500 - Date.now())));
    const settled = await nextAdmin.getMetadata(['orders']);
    expect(settled.brokers.map((b) => [b.brokerId, b.live])).toEqual([[before.brokers[0]?.brokerId, true]]);
    expect(settled.topics[0]?.partitions.map((p) => p.status)).toEqual([PartitionStatus.PARTITION_STATUS_AVAILABLE, PartitionStatus.PARTITION_STATUS_AVAILABLE]);
    expect(broker.logs).toContain('trying another coordinator');

    nextAdmin.close();
    await consumer.close();
    await consuming;
    await producer.close();
    admin.close();
  }, 90_000);
});
