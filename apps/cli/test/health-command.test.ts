import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, runCli, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;
let broker: AppProcess;

beforeAll(async () => {
  cluster = await startLocalCluster();
  broker = cluster.broker;
});

afterAll(async () => {
  await cluster.destroy();
});

describe('braid health', () => {
  it('prints SERVING and exits 0 for a running broker (--target)', async () => {
    const result = await runCli(['health', '--target', broker.address]);
    expect(result).toMatchObject({ code: 0, stdout: 'SERVING\n' });
  });

  it('takes the broker from BRAID_BROKER', async () => {
    const result = await runCli(['health'], { env: { BRAID_BROKER: broker.address } });
    expect(result).toMatchObject({ code: 0, stdout: 'SERVING\n' });
  });

  it('asks about one service', async () => {
    const result = await runCli(['health', '--target', broker.address, '--service', 'braid.v1.ProducerService']);
    expect(result).toMatchObject({ code: 0, stdout: 'SERVING\n' });
  });

  it('exits non-zero with the gRPC status when nothing listens', async () => {
    const port = await freePort();
    const result = await runCli(['health', '--target', `127.0.0.1:${port}`, '--timeout', '2000']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/not reachable: (UNAVAILABLE|DEADLINE_EXCEEDED)/);
  });

  it('reports an unknown service as NOT_FOUND and exits 1', async () => {
    const result = await runCli(['health', '--target', broker.address, '--service', 'no.such.Service']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('NOT_FOUND');
  });

  it('exits 2 on a usage error', async () => {
    const result = await runCli(['health', '--timeout', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--timeout');
  });
});
