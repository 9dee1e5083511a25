import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateSubscriptionRequest, CreateTopicRequest, Durability, PartitionStatus, StartPosition, SubscriptionMode, UpdateSubscriptionRequest } from '@braid/proto';
import type { GetMetadataResponse, SubscriptionConfig, TopicConfig } from '@braid/proto';
import { startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { connect, registerBroker, rpc } from './clients.js';
import type { CoordinatorClients } from './clients.js';

const cleanup: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function start(dataDir: string): Promise<{ app: AppProcess; clients: CoordinatorClients }> {
  const app = await startApp('coordinator', { args: ['--data-dir', dataDir, '--broker-lease-ms', '600000'] });
  const clients = connect(app.address);
  cleanup.push(async () => {
    clients.close();
    await app.kill9();
  });
  return { app, clients };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'braid-coordinator-restart-'));
  cleanup.push(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

const createTopic = (c: CoordinatorClients, name: string, config?: Partial<TopicConfig>) =>
  rpc(c.admin.createTopic.bind(c.admin), CreateTopicRequest.fromPartial({ name, ...(config ? { config } : {}) }));
const deleteTopic = (c: CoordinatorClients, name: string) => rpc(c.admin.deleteTopic.bind(c.admin), { name });
const createSubscription = (c: CoordinatorClients, topic: string, name: string, config?: Parameters<typeof SubscriptionConfig.fromPartial>[0]) =>
  rpc(c.admin.createSubscription.bind(c.admin), CreateSubscriptionRequest.fromPartial({ topic, name, ...(config ? { config } : {}) }));
const updateSubscription = (c: CoordinatorClients, topic: string, name: string, config: Parameters<typeof SubscriptionConfig.fromPartial>[0]) =>
  rpc(c.admin.updateSubscription.bind(c.admin), UpdateSubscriptionRequest.fromPartial({ topic, name, config }));
const deleteSubscription = (c: CoordinatorClients, topic: string, name: string) => rpc(c.admin.deleteSubscription.bind(c.admin), { topic, name });
const listSubscriptions = (c: CoordinatorClients, topic = '') => rpc(c.admin.listSubscriptions.bind(c.admin), { topic });
const metadata = (c: CoordinatorClients): Promise<GetMetadataResponse> => rpc(c.admin.getMetadata.bind(c.admin), { topics: [] });

/** The metadata with what a restart is allowed to change (liveness, version, lease times) taken out. */
function durablePart(m: GetMetadataResponse): { brokers: unknown[]; topics: unknown[] } {
  return {
    brokers: m.brokers.map(({ brokerId, address, registeredAtMs }) => ({ brokerId, address, registeredAtMs })),
    topics: m.topics.map((t) => ({
      topic: t.topic,
      leaders: t.partitions.map((p) => [p.partition, p.leaderId, p.leaderAddress, p.leaderEpoch]),
      subscriptions: t.subscriptions,
    })),
  };
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('coordinator restart after %s', (signal) => {
  it('keeps topics, settings, ids, placement, subscriptions and broker registrations', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    await registerBroker(first.clients, 'b1', '127.0.0.1:17401');
    await registerBroker(first.clients, 'b2', '127.0.0.1:17402');
    await createTopic(first.clients, 'orders', { partitions: 8, retentionMs: 60_000, retentionBytes: 1 << 20, durability: Durability.DURABILITY_WRITE, maxRecordBytes: 4096 });
    await createSubscription(first.clients, 'orders', 'billing', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
      startPosition: StartPosition.START_POSITION_TIMESTAMP,
      startTimeMs: 1_700_000_000_000,
      retryPolicy: { maxAttempts: 7, multiplier: 1.5 },
      rateLimit: { recordsPerSecond: 2.5 },
      circuitBreaker: { enabled: true, failureRatio: 0.25 },
    });
    await createSubscription(first.clients, 'orders', 'dropped');
    await deleteSubscription(first.clients, 'orders', 'dropped');
    const gone = await createTopic(first.clients, 'gone');
    await createSubscription(first.clients, 'gone', 'with-its-topic');
    await deleteTopic(first.clients, 'gone');
    await createTopic(first.clients, 'audit', { partitions: 3 });
    await createSubscription(first.clients, 'audit', 'archive', { mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED });
    // The last write before the crash must be there too (writes are synced).
    await updateSubscription(first.clients, 'audit', 'archive', { ackTimeoutMs: 120_000, deadLetterTopic: 'audit-parked' });
    const before = await metadata(first.clients);
    const subscriptionsBefore = await listSubscriptions(first.clients);
    expect(subscriptionsBefore.subscriptions.map((sub) => `${sub.topic}/${sub.name}`)).toEqual(['audit/archive', 'orders/billing']);
    expect(before.topics.find((t) => t.topic?.name === 'audit')?.subscriptions[0]?.config).toMatchObject({ ackTimeoutMs: 120_000, deadLetterTopic: 'audit-parked' });
    expect(await first.app.stop(signal)).toEqual(signal === 'SIGTERM' ? { code: 0, signal: null } : { code: null, signal: 'SIGKILL' });

    const second = await start(dataDir);
    const after = await metadata(second.clients);
    expect(durablePart(after)).toEqual(durablePart(before));
    expect(await listSubscriptions(second.clients)).toEqual(subscriptionsBefore);
    expect(after.version).toBeGreaterThan(before.version);
    // Leases did not survive: brokers are known but down, their partitions unavailable.
    expect(after.brokers.map((b) => b.live)).toEqual([false, false]);
    for (const topic of after.topics) {
      for (const p of topic.partitions) expect(p.status).toBe(PartitionStatus.PARTITION_STATUS_UNAVAILABLE);
    }

    // A broker registering again makes its partitions available; placement
    // is unchanged, and each registration started a new, higher epoch.
    await registerBroker(second.clients, 'b1', '127.0.0.1:17401');
    await registerBroker(second.clients, 'b2', '127.0.0.1:17402');
    const back = await metadata(second.clients);
    const placement = (m: GetMetadataResponse): unknown[] => m.topics.map((t) => [t.topic?.name, t.partitions.map((p) => [p.partition, p.leaderId, p.leaderAddress])]);
    expect(placement(back)).toEqual(placement(before));
    const epochs = (m: GetMetadataResponse): Map<string, number> => new Map(m.brokers.map((b) => [b.brokerId, b.leaderEpoch]));
    for (const topic of back.topics) {
      for (const p of topic.partitions) {
        expect(p.status).toBe(PartitionStatus.PARTITION_STATUS_AVAILABLE);
        expect(p.leaderEpoch).toBe(epochs(back).get(p.leaderId));
        expect(p.leaderEpoch).toBeGreaterThan(Math.max(...epochs(before).values()));
      }
    }

    // Ids are never reused, not even the id of a topic deleted before the restart.
    const recreated = await createTopic(second.clients, 'gone');
    const highest = Math.max(...before.topics.map((t) => t.topic?.id ?? 0), gone.topic?.id ?? 0);
    expect(recreated.topic?.id).toBeGreaterThan(highest);
    // ... and the subscriptions deleted with it stay deleted.
    expect((await listSubscriptions(second.clients, 'gone')).subscriptions).toEqual([]);
  });
});
