// `braid consume` and `braid subscription` against real coordinator and
// broker processes (started from source on free loopback ports, storage in a
// temp dir). These need the broker's ConsumerService and the subscription
// RPCs of AdminService; until those land they fail with UNIMPLEMENTED, by
// design (consume-subscription.test.ts runs the same commands against the
// SDK's fake broker).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster | undefined;

function brokerAddress(): string {
  if (!cluster) throw new Error('cluster did not start');
  return cluster.broker.address;
}

const braid = (args: string[], stdin?: string) => runCli(['--broker', brokerAddress(), ...args], { stdin });

beforeAll(async () => {
  cluster = await startLocalCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('braid consume against a real broker', () => {
  it('consumes what was produced, from the earliest record, and stops after --max', async () => {
    expect(await braid(['topic', 'create', 'orders', '--partitions', '1'])).toMatchObject({ code: 0 });
    const produced = await braid(['produce', 'orders', '--key-sep', ':'], 'user-1:created\nuser-2:created\nuser-1:paid\n');
    expect(produced).toMatchObject({ code: 0, stdout: '3 records acknowledged\n' });

    const consumed = await braid(['consume', 'orders', '--subscription', 'billing', '--from', 'earliest', '--max', '3']);
    expect(consumed).toMatchObject({ code: 0, stdout: '0 0 user-1 created\n0 1 user-2 created\n0 2 user-1 paid\n', stderr: '' });

    // Acknowledged: the subscription has committed all three.
    const described = await braid(['subscription', 'describe', 'orders', 'billing']);
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^Topic: +orders\nSubscription: +billing\n/);
    expect(described.stdout).toMatch(/\n0 +3 +3 +0 +0 +0\n/);
  });

  it('prints JSON lines and continues where the subscription left off', async () => {
    await braid(['topic', 'create', 'events', '--partitions', '2']);
    await braid(['produce', 'events', '--partition', '1', '--header', 'source=test'], 'a\nb\n');
    const first = await braid(['consume', 'events', '-s', 'audit', '--from', 'earliest', '-n', '1', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ partition: 1, offset: 0, key: null, value: 'a', headers: { source: 'test' }, attempt: 1 });
    const second = await braid(['consume', 'events', '-s', 'audit', '-n', '1']);
    expect(second).toMatchObject({ code: 0, stdout: '1 1 - b\n' });
  });

  it('lists, seeks and re-reads a subscription', async () => {
    await braid(['topic', 'create', 'replay', '--partitions', '1']);
    await braid(['produce', 'replay'], 'x\ny\n');
    expect(await braid(['subscription', 'create', 'replay', 'again', '--from', 'earliest'])).toMatchObject({
      code: 0,
      stdout: 'created subscription again on replay (mode partitioned, from earliest)\n',
    });
    expect((await braid(['subscription', 'list', '--topic', 'replay'])).stdout).toMatch(/\nreplay +again +partitioned +earliest /);
    expect((await braid(['consume', 'replay', '-s', 'again', '-n', '2'])).stdout).toBe('0 0 - x\n0 1 - y\n');
    expect(await braid(['subscription', 'seek', 'replay', 'again', '--offset', '0:1'])).toMatchObject({ code: 0, stdout: 'partition=0 offset=1\n' });
    expect((await braid(['consume', 'replay', '-s', 'again', '-n', '1'])).stdout).toBe('0 1 - y\n');
  });

  it('fails with NOT_FOUND for an unknown topic', async () => {
    const result = await braid(['consume', 'missing', '-s', 's', '--timeout', '5000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^NOT_FOUND: /);
  });
});
