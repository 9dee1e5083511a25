// `braid broker describe` against real coordinator and broker processes
// (started from source on free loopback ports, storage in a temp dir): each
// process answers about itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster | undefined;

function running(): LocalCluster {
  if (!cluster) throw new Error('cluster did not start');
  return cluster;
}

/** The `Name:  value` lines of a description as a map. */
function fields(stdout: string): Map<string, string> {
  return new Map(stdout.trimEnd().split('\n').map((line) => {
    const [name = '', value = ''] = line.split(/:\s+/, 2);
    return [name, value];
  }));
}

beforeAll(async () => {
  cluster = await startLocalCluster();
}, 120_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('braid broker describe against a real broker', () => {
  it("prints the broker's id, address, memory and Subscribe stream buffers", async () => {
    const result = await runCli(['--broker', running().broker.address, 'broker', 'describe']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const described = fields(result.stdout);
    expect([...described.keys()]).toEqual([
      'Broker', 'Address', 'RSS bytes', 'Heap total bytes', 'Heap used bytes', 'External bytes', 'Array buffers bytes',
      'Subscribe streams', 'Queued messages', 'Queued bytes', 'Dead-lettered',
    ]);
    expect(described.get('Broker')).toMatch(/^\S+$/);
    expect(described.get('Broker')).not.toBe('-');
    expect(described.get('Address')).toBe(running().broker.address);
    const rss = Number(described.get('RSS bytes'));
    const heapUsed = Number(described.get('Heap used bytes'));
    expect(heapUsed).toBeGreaterThan(0);
    expect(rss).toBeGreaterThan(heapUsed);
    expect(described.get('Subscribe streams')).toBe('0');
    expect(described.get('Queued messages')).toBe('0');
    expect(described.get('Queued bytes')).toBe('0');
    expect(described.get('Dead-lettered')).toBe('0');
  });

  it('is answered by the coordinator itself when pointed at it', async () => {
    const result = await runCli(['--broker', running().coordinator.address, 'broker', 'describe', '--timeout', '5000']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const described = fields(result.stdout);
    expect(described.get('Broker')).toBe('- (a coordinator answered)');
    expect(described.get('Address')).toBe(running().coordinator.address);
    expect(Number(described.get('Heap used bytes'))).toBeGreaterThan(0);
  });

  it('reports an unreachable broker with its status and exit code 1', async () => {
    const port = await freePort();
    const result = await runCli(['--broker', `127.0.0.1:${port}`, 'broker', 'describe', '--timeout', '3000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED): /);
  });
});
