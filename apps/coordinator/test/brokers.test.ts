import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTopicRequest, PartitionStatus } from '@braid/proto';
import type { GetMetadataResponse } from '@braid/proto';
import { startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { MetadataWatch, connect, eventually, registerBroker, rpc, rpcError } from './clients.js';
import type { CoordinatorClients } from './clients.js';

const leaseMs = 800;
let coordinator: AppProcess;
let dataDir: string;
let clients: CoordinatorClients;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-brokers-'));
  coordinator = await startApp('coordinator', { args: ['--data-dir', dataDir, '--broker-lease-ms', String(leaseMs)] });
  clients = connect(coordinator.address);
});

afterAll(async () => {
  clients.close();
  await coordinator.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const heartbeat = (brokerId: string, leaseId: string) =>
  rpc(clients.coordinator.heartbeat.bind(clients.coordinator), { brokerId, leaseId });
const metadata = (): Promise<GetMetadataResponse> => rpc(clients.admin.getMetadata.bind(clients.admin), { topics: [] });

describe('broker leases through CoordinatorService', () => {
  it('registers, renews by heartbeat, and expires a silent broker: not live, its partitions unavailable, placement kept', async () => {
    const register = await rpc(clients.coordinator.registerBroker.bind(clients.coordinator), { brokerId: 'b1', address: '127.0.0.1:17401' });
    expect(register.leaseTtlMs).toBe(leaseMs);
    expect(register.leaseId).not.toBe('');
    const b2Lease = await registerBroker(clients, 'b2', '127.0.0.1:17402');
    const created = await rpc(clients.admin.createTopic.bind(clients.admin), CreateTopicRequest.fromPartial({ name: 'orders', config: { partitions: 16 } }));
    expect(created.topic?.config?.partitions).toBe(16);
    const placed = await metadata();
    const leaders = placed.topics[0]?.partitions.map((p) => p.leaderId);
    expect(new Set(leaders)).toEqual(new Set(['b1', 'b2']));

    // b1 heartbeats; b2 stays silent.
    const beating = setInterval(() => {
      heartbeat('b1', register.leaseId).catch(() => undefined);
    }, leaseMs / 4);
    try {
      const response = await heartbeat('b1', register.leaseId);
      expect(response.leaseTtlMs).toBe(leaseMs);
      expect(response.metadataVersion).toBeGreaterThanOrEqual(placed.version);
      const expired = await eventually(async () => {
        const m = await metadata();
        return m.brokers.find((b) => b.brokerId === 'b2')?.live === false ? m : undefined;
      }, 'b2 to expire');
      expect(expired.brokers.find((b) => b.brokerId === 'b1')?.live).toBe(true);
      const partitions = expired.topics[0]?.partitions ?? [];
      expect(partitions.map((p) => p.leaderId)).toEqual(leaders);
      for (const p of partitions) {
        expect(p.status).toBe(p.leaderId === 'b1' ? PartitionStatus.PARTITION_STATUS_AVAILABLE : PartitionStatus.PARTITION_STATUS_UNAVAILABLE);
        // The leader's epoch: that of its registration (b1 registered first).
        expect(p.leaderEpoch).toBe(p.leaderId === 'b1' ? 1 : 2);
      }

      // The expired lease is gone: the broker is told to register again.
      const error = await rpcError(heartbeat('b2', b2Lease));
      expect(error.code).toBe(Status.NOT_FOUND);
      expect(error.message).toContain('register again');
      await registerBroker(clients, 'b2', '127.0.0.1:17402');
      const revived = await metadata();
      expect(revived.brokers.every((b) => b.live)).toBe(true);
      expect(revived.topics[0]?.partitions.every((p) => p.status === PartitionStatus.PARTITION_STATUS_AVAILABLE)).toBe(true);
    } finally {
      clearInterval(beating);
    }
  });

  it('refuses a live broker id from another address (ALREADY_EXISTS) and bad registrations (INVALID_ARGUMENT)', async () => {
    const lease = await registerBroker(clients, 'b9', '127.0.0.1:17409');
    const taken = await rpcError(registerBroker(clients, 'b9', '127.0.0.1:27409'));
    expect(taken.code).toBe(Status.ALREADY_EXISTS);
    expect(taken.retryAfterMs).toBeGreaterThan(0);
    expect((await rpcError(registerBroker(clients, '', '127.0.0.1:1'))).code).toBe(Status.INVALID_ARGUMENT);
    expect((await rpcError(registerBroker(clients, 'b10', 'nowhere'))).code).toBe(Status.INVALID_ARGUMENT);
    expect((await rpcError(heartbeat('b9', 'forged'))).code).toBe(Status.NOT_FOUND);
    expect((await heartbeat('b9', lease)).leaseTtlMs).toBe(leaseMs);
  });

  it('WatchMetadata sends the metadata at once and a new event when a topic is created or a lease expires', async () => {
    const watch = new MetadataWatch(clients, 'watcher');
    try {
      const first = await watch.find(() => true, 'the initial metadata');
      const current = await metadata();
      expect(first.version).toBe(current.version);
      expect(first.topics.map((t) => t.topic?.name)).toEqual(current.topics.map((t) => t.topic?.name));

      const lease = await registerBroker(clients, 'w1', '127.0.0.1:17501');
      // Leases of the earlier tests' brokers may lapse meanwhile and send
      // their own events; look for the one that has w1.
      const afterRegister = await watch.find((m) => m.brokers.some((b) => b.brokerId === 'w1' && b.live), 'the registration event');
      expect(afterRegister.version).toBeGreaterThan(first.version);

      await heartbeat('w1', lease);
      await rpc(clients.admin.createTopic.bind(clients.admin), CreateTopicRequest.fromPartial({ name: 'watched', config: { partitions: 2 } }));
      const created = await watch.find((m) => m.topics.some((t) => t.topic?.name === 'watched'), 'the topic creation event');
      expect(created.version).toBeGreaterThan(afterRegister.version);
      expect(created.topics.find((t) => t.topic?.name === 'watched')?.partitions).toHaveLength(2);

      // w1 sends no more heartbeats: its lease expiry arrives as an event too.
      const expired = await watch.find((m) => m.brokers.find((b) => b.brokerId === 'w1')?.live === false, 'the lease expiry event');
      expect(expired.version).toBeGreaterThan(created.version);
      const versions = watch.received.map((m) => m.version);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    } finally {
      watch.call.cancel();
    }
    // The coordinator is unharmed by the cancelled watch.
    expect((await metadata()).version).toBeGreaterThan(0);
  });
});
