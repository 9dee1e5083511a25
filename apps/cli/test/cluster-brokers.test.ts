// `braid cluster brokers` against real coordinator and broker processes
// (started from source on free loopback ports, storage in a temp dir): the
// registered broker is listed live with its address, a lease that has not
// expired, and the partitions it leads; `--json` prints one object per line.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Admin } from '@braid/client';
import { freePort, runCli, startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import type { BrokerJson } from '../src/cluster-format.js';

let cluster: LocalCluster | undefined;
let brokerId = '';

function running(): LocalCluster {
  if (!cluster) throw new Error('cluster did not start');
  return cluster;
}

beforeAll(async () => {
  cluster = await startLocalCluster();
  const admin = new Admin({ brokers: cluster.broker.address });
  try {
    brokerId = (await admin.describeBroker()).brokerId;
    await admin.createTopic('orders', { partitions: 3 });
    // Leaders are assigned by the coordinator; wait until all three are, so the count is settled.
    await vi.waitFor(
      async () => {
        const led = (await admin.describeTopic('orders')).partitions.filter((p) => p.leaderId === brokerId).length;
        if (led !== 3) throw new Error(`broker ${brokerId} leads ${led} of 3 partitions`);
      },
      { timeout: 30_000, interval: 100 },
    );
  } finally {
    admin.close();
  }
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('braid cluster brokers against a real cluster', () => {
  it('lists the running broker as live with its address, lease and partitions led', async () => {
    const result = await runCli(['--broker', running().broker.address, 'cluster', 'brokers']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = result.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['BROKER_ID', 'ADDRESS', 'STATUS', 'LEASE', 'EPOCH', 'PARTITIONS_LED']);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.split(/\s{2,}/)).toEqual([brokerId, running().broker.address, 'live', expect.stringMatching(/^expires in \d+(\.\d)? s$/), expect.stringMatching(/^[1-9]\d*$/), '3']);
  });

  it('prints one JSON object per broker with --json, also when asked through the coordinator', async () => {
    const result = await runCli(['--broker', running().coordinator.address, 'cluster', 'brokers', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const broker = JSON.parse(lines[0] ?? '') as BrokerJson;
    expect(broker).toMatchObject({ brokerId, address: running().broker.address, live: true, status: 'live', partitionsLed: 3 });
    expect(broker.leaderEpoch).toBeGreaterThan(0);
    expect(broker.leaseRemainingMs).toBeGreaterThan(0);
    expect(Date.parse(broker.leaseExpiresAt ?? '')).toBeGreaterThan(Date.now() - 1_000);
    expect(Date.parse(broker.registeredAt ?? '')).toBeLessThanOrEqual(Date.now());
  });

  it('reports an unreachable broker with its status and exit code 1', async () => {
    const port = await freePort();
    const result = await runCli(['--broker', `127.0.0.1:${port}`, 'cluster', 'brokers', '--timeout', '3000']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED): /);
  });

  it('explains itself under --help', async () => {
    const result = await runCli(['cluster', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/brokers .*list the registered brokers/s);
  });
});
