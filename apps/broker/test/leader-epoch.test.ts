// Leader epochs and fencing (issue 6, "a broker that missed an epoch change
// has its writes refused"). Every registration of a broker starts a new
// leader epoch for its partitions. Here a broker process is paused
// (SIGSTOP) until its lease lapses, a replacement registers under the same
// broker id from another address (a new epoch), and the paused process
// resumes as a "zombie" that missed the change: its writes are refused,
// tagged ones at once (STALE_EPOCH), untagged ones as soon as it hears of
// the change (NOT_LEADER naming the replacement). The replacement refuses
// writes tagged with the old epoch, so a client with stale metadata
// refreshes instead of writing through a broker that no longer leads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Producer } from '@braid/client';
import type { DescribeTopicResponse, GetMetadataResponse } from '@braid/proto';
import { call, failure, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import { clients, createTopic, publish } from './grpc-helpers.js';

/** Broker lease at the coordinator: short, so the lease lapses quickly. */
const leaseMs = 1_500;
const brokerId = 'epoch-b1';

let cluster: LocalCluster;
let replacement: AppProcess | undefined;
const replacementDir = mkdtempSync(join(tmpdir(), 'braid-replacement-'));

beforeAll(async () => {
  cluster = await startLocalCluster({
    coordinatorArgs: ['--broker-lease-ms', String(leaseMs)],
    brokerArgs: ['--broker-id', brokerId, '--heartbeat-interval-ms', '300'],
  });
}, 120_000);

afterAll(async () => {
  if (cluster.broker.alive) process.kill(cluster.broker.pid, 'SIGCONT');
  await replacement?.kill9();
  await cluster.destroy();
  rmSync(replacementDir, { recursive: true, force: true });
});

const record = (value: string): { key: Buffer; value: Buffer; headers: Record<string, never> } => ({ key: Buffer.from('k'), value: Buffer.from(value), headers: {} });

describe('leader epochs', () => {
  it('refuses the writes of a broker process that missed a newer registration of its id', async () => {
    const coordinator = clients(cluster.coordinator.address);
    const describeTopic = (): Promise<DescribeTopicResponse> => call((cb) => { coordinator.admin.describeTopic({ name: 'fenced' }, cb); });
    const brokerLive = async (): Promise<boolean> => {
      const listed: GetMetadataResponse = await call((cb) => { coordinator.admin.getMetadata({ topics: [] }, cb); });
      return listed.brokers.find((b) => b.brokerId === brokerId)?.live ?? false;
    };
    const zombie = clients(cluster.broker.address);
    await createTopic(zombie.admin, 'fenced', { partitions: 1 });
    const before = (await describeTopic()).partitions[0];
    const oldEpoch = before?.leaderEpoch ?? 0;
    expect(before).toMatchObject({ leaderId: brokerId, leaderAddress: cluster.broker.address });
    expect(oldEpoch).toBeGreaterThan(0);
    await publish(zombie.producer, { topic: 'fenced', partition: 0, leaderEpoch: oldEpoch, records: [record('before')] });

    // Pause the broker until its lease lapses, and register a replacement under its id.
    process.kill(cluster.broker.pid, 'SIGSTOP');
    await expect.poll(brokerLive, { timeout: leaseMs * 10, interval: 100 }).toBe(false);
    replacement = await startApp('broker', {
      args: ['--data-dir', replacementDir, '--coordinator', cluster.coordinator.address, '--broker-id', brokerId, '--heartbeat-interval-ms', '300'],
    });
    await expect.poll(async () => (await describeTopic()).partitions[0]?.leaderAddress, { timeout: 10_000, interval: 100 }).toBe(replacement.address);
    const newEpoch = (await describeTopic()).partitions[0]?.leaderEpoch ?? 0;
    expect(newEpoch).toBeGreaterThan(oldEpoch);

    process.kill(cluster.broker.pid, 'SIGCONT');
    // Tagged with the current epoch: refused at once, whatever the zombie
    // has heard by now (STALE_EPOCH if nothing yet, NOT_LEADER once its
    // metadata names the replacement).
    const tagged = await failure(publish(zombie.producer, { topic: 'fenced', partition: 0, leaderEpoch: newEpoch, records: [record('to-zombie')] }));
    expect(['STALE_EPOCH', 'NOT_LEADER']).toContain(tagged.reason);
    // Untagged: refused once the zombie hears of the new registration (its
    // metadata watch, or its next heartbeat), redirecting to the replacement.
    await expect
      .poll(async () => {
        const outcome = await publish(zombie.producer, { topic: 'fenced', partition: 0, records: [record('untagged')] }).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        return outcome;
      }, { timeout: 10_000, interval: 100 })
      .toMatchObject({ reason: 'NOT_LEADER', leaderAddress: replacement.address });
    // Tagged with its own old epoch: refused too now.
    expect((await failure(publish(zombie.producer, { topic: 'fenced', partition: 0, leaderEpoch: oldEpoch, records: [record('old')] }))).reason).toBe('NOT_LEADER');

    // The replacement refuses the old epoch (a client with stale metadata) and takes the new one.
    const fresh = clients(replacement.address);
    const stale = await failure(publish(fresh.producer, { topic: 'fenced', partition: 0, leaderEpoch: oldEpoch, records: [record('stale')] }));
    expect(stale.reason).toBe('STALE_EPOCH');
    const accepted = await publish(fresh.producer, { topic: 'fenced', partition: 0, leaderEpoch: newEpoch, records: [record('after')] });
    expect(accepted.results).toHaveLength(1);

    // An SDK producer bootstrapped from the zombie's address follows the redirect.
    const producer = new Producer({ brokers: [cluster.broker.address] });
    const sent = await producer.send('fenced', { key: 'k', value: 'via-sdk' });
    expect(sent.partition).toBe(0);
    await producer.close();
    const hw = (await call<DescribeTopicResponse>((cb) => { fresh.admin.describeTopic({ name: 'fenced' }, cb); })).partitions[0]?.highWatermark;
    expect(hw).toBe(2);

    zombie.close();
    fresh.close();
    coordinator.close();
  }, 120_000);
});
