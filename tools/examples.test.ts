// Runs every example under examples/ against a real coordinator and broker,
// so README examples keep working.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCluster, workspaceRoot } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster();
}, 60_000);

afterAll(async () => {
  await cluster.destroy();
});

function runExample(file: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', file], {
    cwd: workspaceRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('examples', () => {
  it('publish.ts publishes keyed records in order', () => {
    const result = runExample('examples/publish.ts', { BRAID_BROKER: cluster.broker.address, BRAID_EXAMPLE_TOPIC: 'example-orders' });
    expect(result.status, result.stderr).toBe(0);
    const match = /created @(\d+)\/(\d+), paid @(\d+)\/(\d+), shipped @(\d+)\/(\d+)/.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    const [, p1, o1, p2, o2, p3, o3] = (match ?? []).map(Number);
    expect(new Set([p1, p2, p3]).size).toBe(1);
    expect(o1).toBeLessThan(o2 ?? 0);
    expect(o2).toBeLessThan(o3 ?? 0);
  });

  it('consume.ts reads back what publish.ts published, in key order', () => {
    const result = runExample('examples/consume.ts', { BRAID_BROKER: cluster.broker.address, BRAID_EXAMPLE_TOPIC: 'example-orders', BRAID_EXAMPLE_COUNT: '3' });
    expect(result.status, result.stderr).toBe(0);
    const values = [...result.stdout.matchAll(/^user-1 (\w+) @/gm)].map((m) => m[1]);
    expect(values).toEqual(['created', 'paid', 'shipped']);
    expect(result.stdout).toContain('consumed 3 records');
  });
});
