// Several coordinator processes on one etcd: one is elected and serves,
// the others stand by (health NOT_SERVING, every call UNAVAILABLE naming
// the leader), and a standby takes over when the leader stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { Admin, checkHealth } from '@braid/client';
import { CreateTopicRequest } from '@braid/proto';
import { startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { MetadataWatch, connect, eventually, registerBroker, rpc, rpcError } from './clients.js';
import type { CoordinatorClients } from './clients.js';
import { useEtcd } from './etcd-fixture.js';

let prefixes = 0;
const etcd = useEtcd();

interface Coordinator {
  app: AppProcess;
  clients: CoordinatorClients;
}

/** `count` coordinators on one etcd prefix, started together; killed after the test. */
async function startCoordinators(count: number, prefix = `/braid-election-${++prefixes}/`): Promise<Coordinator[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-election-'));
      const app = await startApp('coordinator', {
        args: ['--data-dir', dataDir, '--etcd-endpoints', etcd.server.endpoint, '--etcd-prefix', prefix, '--broker-lease-ms', '600000', '--metrics-port', '0'],
        waitFor: 'listening',
      });
      const clients = connect(app.address);
      etcd.defer(async () => {
        clients.close();
        await app.kill9();
        rmSync(dataDir, { recursive: true, force: true });
      });
      return { app, clients };
    }),
  );
}

const health = (c: Coordinator): Promise<string> => checkHealth(c.app.address, { timeoutMs: 1000 }).catch(() => 'DOWN');

/** The one coordinator reporting SERVING once exactly one does and the others answer NOT_SERVING. */
async function soleLeader(coordinators: Coordinator[]): Promise<Coordinator> {
  return eventually(async () => {
    const statuses = await Promise.all(coordinators.map(health));
    const serving = coordinators.filter((_, i) => statuses[i] === 'SERVING');
    const standing = statuses.filter((s) => s === 'NOT_SERVING').length;
    return serving.length === 1 && standing === coordinators.length - 1 ? serving[0] : undefined;
  }, 'exactly one coordinator to serve');
}

describe('coordinators on etcd: leader election', () => {
  it('elects exactly one leader; standbys report NOT_SERVING and answer UNAVAILABLE (COORDINATOR_STANDBY) naming it', async () => {
    const coordinators = await startCoordinators(3);
    const leader = await soleLeader(coordinators);
    const standbys = coordinators.filter((c) => c !== leader);
    expect(leader.app.logs).toContain('coordinator serving as the leader');

    await registerBroker(leader.clients, 'b1', '127.0.0.1:17401');
    await rpc(leader.clients.admin.createTopic.bind(leader.clients.admin), CreateTopicRequest.fromPartial({ name: 'orders', config: { partitions: 2 } }));
    for (const standby of standbys) {
      expect(standby.app.logs).toContain('coordinator standing by for the leadership');
      await eventually(async () => {
        const error = await rpcError(rpc(standby.clients.admin.listTopics.bind(standby.clients.admin), {}));
        return error.leaderAddress === leader.app.address ? error : undefined;
      }, 'the standby to name the leader');
      const admin = await rpcError(rpc(standby.clients.admin.createTopic.bind(standby.clients.admin), CreateTopicRequest.fromPartial({ name: 'nope' })));
      expect(admin).toMatchObject({ code: Status.UNAVAILABLE, reason: 'COORDINATOR_STANDBY', retriable: true, leaderAddress: leader.app.address });
      const register = await rpcError(rpc(standby.clients.coordinator.registerBroker.bind(standby.clients.coordinator), { brokerId: 'b1', address: '127.0.0.1:1' }));
      expect(register).toMatchObject({ code: Status.UNAVAILABLE, reason: 'COORDINATOR_STANDBY', leaderAddress: leader.app.address });
      // A watch ends at once with the same answer.
      const watch = new MetadataWatch(standby.clients, 'b1');
      const status = await new Promise<{ code: number }>((resolve) => watch.call.on('status', resolve));
      expect(status.code).toBe(Status.UNAVAILABLE);
      expect(watch.received).toEqual([]);
    }
    // Their metrics say who leads; a standby reports nothing else.
    const scrape = async (c: Coordinator): Promise<string> => (await fetch(c.app.metricsUrl ?? 'http://127.0.0.1:1/')).text();
    expect(await scrape(leader)).toMatch(/^braid_coordinator_leader(\{[^}]*\})? 1$/m);
    expect(await scrape(leader)).toMatch(/^braid_coordinator_brokers\{[^}]*braid_broker_state="live"[^}]*\} 1$/m);
    for (const standby of standbys) {
      const text = await scrape(standby);
      expect(text).toMatch(/^braid_coordinator_leader(\{[^}]*\})? 0$/m);
      expect(text).not.toContain('braid_coordinator_brokers');
    }
    // The SDK moves on from a standby to the leader it names.
    const first = standbys[0];
    if (first === undefined) throw new Error('no standby');
    const admin = new Admin({ brokers: [first.app.address], timeoutMs: 3000 });
    etcd.defer(() => { admin.close(); });
    expect((await admin.listTopics()).map((t) => t.name)).toEqual(['orders']);
    // Nothing was written by a standby.
    expect((await rpc(leader.clients.admin.listTopics.bind(leader.clients.admin), {})).topics.map((t) => t.name)).toEqual(['orders']);
  });

  it('a leader stopped gracefully resigns: a standby leads at once, with the metadata; the stopped one exits 0', async () => {
    const coordinators = await startCoordinators(2);
    const leader = await soleLeader(coordinators);
    await registerBroker(leader.clients, 'b1', '127.0.0.1:17401');
    await rpc(leader.clients.admin.createTopic.bind(leader.clients.admin), CreateTopicRequest.fromPartial({ name: 'kept', config: { partitions: 3 } }));
    const started = Date.now();
    expect(await leader.app.stop()).toEqual({ code: 0, signal: null });
    const next = await soleLeader(coordinators.filter((c) => c !== leader));
    // Well under the 5 s lease TTL: resigning revoked the lease.
    expect(Date.now() - started).toBeLessThan(4000);
    const topics = await rpc(next.clients.admin.listTopics.bind(next.clients.admin), {});
    expect(topics.topics.map((t) => [t.name, t.config?.partitions])).toEqual([['kept', 3]]);
    // The broker's lease was kept in etcd: the new leader counts it live.
    const metadata = await rpc(next.clients.admin.getMetadata.bind(next.clients.admin), { topics: [] });
    expect(metadata.brokers.map((b) => [b.brokerId, b.live])).toEqual([['b1', true]]);
  });

  it('a leader whose lease is revoked behind its back stops leading at once: it exits 1 and a standby takes over', async () => {
    const prefix = `/braid-election-${++prefixes}/`;
    const coordinators = await startCoordinators(2, prefix);
    const leader = await soleLeader(coordinators);
    const raw = new Etcd3({ hosts: [etcd.server.endpoint] });
    etcd.defer(() => { raw.close(); });
    const [key] = (await raw.getAll().prefix(`${prefix}election/coordinator/`).sort('Create', 'Ascend').exec()).kvs;
    if (key === undefined) throw new Error('no election key');
    await raw.leaseClient.leaseRevoke({ ID: key.lease });
    expect((await leader.app.exited).code).toBe(1);
    expect(leader.app.logs).toContain('no longer the leader');
    await soleLeader(coordinators.filter((c) => c !== leader));
  });
});
