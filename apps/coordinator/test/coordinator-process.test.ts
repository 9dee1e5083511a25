import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromGrpcError } from '@braid/core';
import { AdminServiceService, CreateTopicRequest, ReadRecordsRequest } from '@braid/proto';
import { callEveryRpc, startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { connect, registerBroker, rpc, rpcError } from './clients.js';

let coordinator: AppProcess;
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'braid-coordinator-'));
  dirs.push(dir);
  return dir;
}

beforeAll(async () => {
  coordinator = await startApp('coordinator', { args: ['--data-dir', tempDir()] });
});

afterAll(async () => {
  await coordinator.kill9();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('coordinator process', () => {
  it('answers every AdminService RPC with a precise status: Seek UNIMPLEMENTED, empty named requests (ReadRecords too) INVALID_ARGUMENT, DescribeBroker about itself', async () => {
    const outcomes = await callEveryRpc(coordinator.address, AdminServiceService);
    const byMethod = new Map(outcomes.map(({ path, error }) => [path.split('/').pop() ?? path, error]));
    const seek = byMethod.get('Seek');
    expect(seek?.code).toBe(Status.UNIMPLEMENTED);
    expect(seek?.message).toContain('/braid.v1.AdminService/Seek is not served by the coordinator');
    for (const method of ['CreateTopic', 'DeleteTopic', 'DescribeTopic', 'CreateSubscription', 'UpdateSubscription', 'DeleteSubscription', 'DescribeSubscription', 'ReadRecords']) {
      expect(byMethod.get(method)?.code, method).toBe(Status.INVALID_ARGUMENT);
      expect(byMethod.get(method)?.reason, method).toBe('INVALID_NAME');
    }
    for (const method of ['ListTopics', 'ListSubscriptions', 'GetMetadata', 'DescribeBroker']) expect(byMethod.get(method), method).toBeUndefined();
    // Every RPC of the contract was called (callEveryRpc walks the service definition).
    expect([...byMethod.keys()].sort()).toEqual(Object.values(AdminServiceService).map((m) => m.path.split('/').pop()).sort());
    expect(coordinator.alive).toBe(true);
  });

  it('redirects ReadRecords to the partition leader (NOT_LEADER), after checking topic and partition like a broker', async () => {
    const clients = connect(coordinator.address);
    try {
      // Nothing listens there: the coordinator only names the address.
      await registerBroker(clients, 'reader', '127.0.0.1:9');
      await rpc(clients.admin.createTopic.bind(clients.admin), CreateTopicRequest.fromPartial({ name: 'read-me', config: { partitions: 2 } }));
      const read = (topic: string, partition: number) =>
        rpcError(rpc(clients.admin.readRecords.bind(clients.admin), ReadRecordsRequest.fromPartial({ topic, partition })));
      expect(await read('missing', 0)).toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
      expect(await read('read-me', 2)).toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'PARTITION_OUT_OF_RANGE' });
      expect(await read('read-me', -1)).toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'PARTITION_OUT_OF_RANGE' });
      const redirect = await read('read-me', 1);
      expect(redirect).toMatchObject({ code: Status.FAILED_PRECONDITION, reason: 'NOT_LEADER', leaderAddress: '127.0.0.1:9', retriable: true });
      expect(redirect.message).toBe('ReadRecords is served by brokers: the coordinator holds no partition logs; ask the leader of read-me/1 at 127.0.0.1:9');
    } finally {
      clients.close();
    }
  });

  it('stops gracefully on SIGTERM with exit code 0, ending metadata watches with UNAVAILABLE at once', async () => {
    const other = await startApp('coordinator', { args: ['--data-dir', tempDir()] });
    const clients = connect(other.address);
    try {
      const watch = clients.coordinator.watchMetadata({ brokerId: 'watcher' });
      const ended = new Promise<unknown>((resolve) => {
        watch.on('error', resolve);
        watch.on('end', () => { resolve(undefined); });
      });
      await new Promise<void>((resolve) => watch.once('data', () => { resolve(); }));
      const started = Date.now();
      const exit = await other.stop('SIGTERM');
      expect(exit).toEqual({ code: 0, signal: null });
      // Well inside the server's 10 s drain grace: the open watch did not hold shutdown up.
      expect(Date.now() - started).toBeLessThan(5000);
      const error = await ended;
      expect(fromGrpcError(error)).toMatchObject({ code: Status.UNAVAILABLE, reason: 'SHUTTING_DOWN' });
      expect(other.logs).toContain('"msg":"stopped"');
    } finally {
      clients.close();
    }
  });

  it('refuses a bad flag value with exit code 2 naming the flag and variable', async () => {
    const bad = await startApp('coordinator', { args: ['--port', 'seventy'], noWait: true });
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.logs).toContain('--port / BRAID_COORDINATOR_PORT');
  });

  it('refuses a broker lease below 100 ms, from the flag or the variable', async () => {
    const fromFlag = await startApp('coordinator', { args: ['--broker-lease-ms', '5'], noWait: true });
    expect((await fromFlag.exited).code).toBe(2);
    expect(fromFlag.logs).toContain('--broker-lease-ms / BRAID_COORDINATOR_BROKER_LEASE_MS: must be at least 100');
    const fromEnv = await startApp('coordinator', { env: { BRAID_COORDINATOR_BROKER_LEASE_MS: 'soon' }, noWait: true });
    expect((await fromEnv.exited).code).toBe(2);
    expect(fromEnv.logs).toContain('--broker-lease-ms / BRAID_COORDINATOR_BROKER_LEASE_MS');
  });

  it('takes the lease length from BRAID_COORDINATOR_BROKER_LEASE_MS', async () => {
    const other = await startApp('coordinator', { args: ['--data-dir', tempDir()], env: { BRAID_COORDINATOR_BROKER_LEASE_MS: '4321' } });
    const clients = connect(other.address);
    try {
      const response = await rpc(clients.coordinator.registerBroker.bind(clients.coordinator), { brokerId: 'b1', address: '127.0.0.1:1' });
      expect(response.leaseTtlMs).toBe(4321);
    } finally {
      clients.close();
      await other.stop();
    }
  });

  it('fails to start (exit 1) on a data directory another coordinator holds, naming it', async () => {
    const dataDir = tempDir();
    const first = await startApp('coordinator', { args: ['--data-dir', dataDir] });
    try {
      const second = await startApp('coordinator', { args: ['--data-dir', dataDir], noWait: true });
      expect((await second.exited).code).toBe(1);
      expect(second.logs).toContain('another coordinator');
      expect(second.logs).toContain(join(dataDir, 'metadata'));
      expect(first.alive).toBe(true);
    } finally {
      await first.stop();
    }
  });
});
