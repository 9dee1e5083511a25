// The coordinator with its metadata in a real etcd (`--etcd-endpoints`):
// the metadata is in etcd, not in the data directory, so a coordinator
// started on a fresh directory against the same etcd finds it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CreateSubscriptionRequest, CreateTopicRequest, SubscriptionMode } from '@braid/proto';
import type { GetMetadataResponse } from '@braid/proto';
import { freePort, startApp } from '@braid/testkit';
import type { AppProcess, StartAppOptions } from '@braid/testkit';
import { connect, registerBroker, rpc } from './clients.js';
import type { CoordinatorClients } from './clients.js';
import { useEtcd } from './etcd-fixture.js';

const etcd = useEtcd();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'braid-coordinator-etcd-'));
  etcd.defer(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

/** A coordinator on a fresh data directory with `args` (and `env`); killed after the test. */
async function start(args: string[], env?: StartAppOptions['env']): Promise<{ app: AppProcess; clients: CoordinatorClients; dataDir: string }> {
  const dataDir = tempDir();
  const app = await startApp('coordinator', { args: ['--data-dir', dataDir, '--broker-lease-ms', '600000', ...args], ...(env ? { env } : {}) });
  const clients = connect(app.address);
  etcd.defer(async () => {
    clients.close();
    await app.kill9();
  });
  return { app, clients, dataDir };
}

const metadata = (c: CoordinatorClients): Promise<GetMetadataResponse> => rpc(c.admin.getMetadata.bind(c.admin), { topics: [] });
const listTopics = (c: CoordinatorClients) => rpc(c.admin.listTopics.bind(c.admin), {});

describe('coordinator with --etcd-endpoints', () => {
  it('keeps topics, subscriptions and broker registrations in etcd: a restart on a fresh data directory finds them; another --etcd-prefix sees none', async () => {
    const first = await start(['--etcd-endpoints', etcd.server.endpoint]);
    expect(first.app.logs).toContain('"metadataStore":"etcd"');
    await registerBroker(first.clients, 'b1', '127.0.0.1:17401');
    const orders = await rpc(first.clients.admin.createTopic.bind(first.clients.admin), CreateTopicRequest.fromPartial({ name: 'orders', config: { partitions: 4 } }));
    await rpc(
      first.clients.admin.createSubscription.bind(first.clients.admin),
      CreateSubscriptionRequest.fromPartial({ topic: 'orders', name: 'billing', config: { mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED } }),
    );
    const before = await metadata(first.clients);
    // Acknowledged writes are in etcd before the answer: kill -9 loses nothing.
    await first.app.kill9();
    // Nothing was kept locally.
    expect(existsSync(join(first.dataDir, 'metadata'))).toBe(false);

    const second = await start(['--etcd-endpoints', etcd.server.endpoint]);
    const after = await metadata(second.clients);
    expect(after.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.leaderId, p.leaderEpoch]), t.subscriptions])).toEqual(
      before.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.leaderId, p.leaderEpoch]), t.subscriptions]),
    );
    expect(after.topics[0]?.subscriptions.map((s) => [s.name, s.config?.mode])).toEqual([['billing', SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED]]);
    expect(after.brokers.map((b) => [b.brokerId, b.address])).toEqual([['b1', '127.0.0.1:17401']]);
    expect(after.version).toBeGreaterThan(before.version);
    // The topic id counter is in etcd too: ids are not reused.
    await registerBroker(second.clients, 'b1', '127.0.0.1:17401');
    const audit = await rpc(second.clients.admin.createTopic.bind(second.clients.admin), CreateTopicRequest.fromPartial({ name: 'audit' }));
    expect(audit.topic?.id).toBeGreaterThan(orders.topic?.id ?? Infinity);
    expect(await second.app.stop()).toEqual({ code: 0, signal: null });

    // Same etcd, configured through the environment, another cluster's prefix.
    const other = await start([], { BRAID_COORDINATOR_ETCD_ENDPOINTS: etcd.server.endpoint, BRAID_COORDINATOR_ETCD_PREFIX: '/other-cluster/' });
    expect(other.app.logs).toContain('"etcdPrefix":"/other-cluster/"');
    expect((await listTopics(other.clients)).topics).toEqual([]);
  });

  it('fails to start (exit 1) within the dial timeout when etcd cannot be reached, naming the endpoints', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const started = Date.now();
    const app = await startApp('coordinator', { args: ['--data-dir', tempDir(), '--etcd-endpoints', nowhere, '--etcd-dial-timeout-ms', '300'], noWait: true });
    etcd.defer(async () => { await app.kill9(); });
    expect((await app.exited).code).toBe(1);
    expect(app.logs).toContain(`cannot reach etcd at ${nowhere} within 300 ms`);
    // tsx start-up included; without the dial timeout it would wait forever.
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('refuses a bad --etcd-endpoints with exit code 2 naming the flag and variable', async () => {
    const app = await startApp('coordinator', { args: ['--etcd-endpoints', 'etcd-without-port'], noWait: true });
    etcd.defer(async () => { await app.kill9(); });
    expect((await app.exited).code).toBe(2);
    expect(app.logs).toContain('--etcd-endpoints / BRAID_COORDINATOR_ETCD_ENDPOINTS: "etcd-without-port" is not host:port');
  });
});
