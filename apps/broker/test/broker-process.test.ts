import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from '@braid/client';
import { startApp, startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster();
});

afterAll(async () => {
  await cluster.destroy();
});

describe('broker process', () => {
  it('is NOT_SERVING until it has registered with the coordinator', async () => {
    const lonely = await startApp('broker', {
      args: ['--data-dir', `${cluster.dataDir}/lonely`, '--coordinator', '127.0.0.1:1'],
      noWait: true,
    });
    try {
      await expect.poll(() => checkHealth(lonely.address).catch(() => 'DOWN'), { timeout: 15_000 }).toBe('NOT_SERVING');
    } finally {
      await lonely.kill9();
    }
  });

  it('stops gracefully on SIGTERM with exit code 0 and starts again on the same data', async () => {
    const exit = await cluster.broker.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(cluster.broker.logs).toContain('"msg":"stopped"');
    await cluster.restartBroker();
    await expect(checkHealth(cluster.broker.address)).resolves.toBe('SERVING');
  });

  it("runs with its memory settings: the sized heap and two malloc arenas (braid in apps/broker/package.json)", () => {
    // The old space is 384 MiB; the limit V8 reports adds the young generation.
    const heapLimitMiB = Number(/"heapLimitMiB":(\d+)/.exec(cluster.broker.logs)?.[1]);
    expect(heapLimitMiB).toBeGreaterThan(384);
    expect(heapLimitMiB).toBeLessThan(512);
    const environment = readFileSync(`/proc/${cluster.broker.pid}/environ`, 'utf8').split('\0');
    expect(environment).toContain('MALLOC_ARENA_MAX=2');
  });

  it('refuses a bad flag value with exit code 2 naming the flag and variable', async () => {
    const bad = await startApp('broker', { args: ['--port', 'seventy'], noWait: true });
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.logs).toContain('--port / BRAID_BROKER_PORT');
  });
});
