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

function runExample(file: string, env: Record<string, string>, timeoutMs = 60_000): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', file], {
    cwd: workspaceRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
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

  it('notification-pipeline.ts fans events out to push, search and analytics, rate-limits push and dead-letters the malformed event', () => {
    const result = runExample('examples/notification-pipeline.ts', { BRAID_BROKER: cluster.broker.address }, 120_000);
    const out = result.stdout;
    expect(result.status, `${out}\n${result.stderr}`).toBe(0);
    expect(out).toMatch(/^published 1500 "new post" events for 200 users \(\+1 malformed, user-\d+\) to new-posts-\w+$/m);
    expect(out).toMatch(/^check ok: every event reached all three subscriptions \(push 1500, search 1500, analytics 1500 of 1500; [1-9]\d* failed push calls were retried\)$/m);
    expect(out).toMatch(/^check ok: per-user order held in push, search and analytics \(0 violations\)$/m);
    const rate = /^check ok: push stayed within 100\/s \(burst 10, so at most 110 in any 1 s window\): at most (\d+) handler starts and (\d+) broker hand-outs in any 1 s window; (\d+) calls/m.exec(out);
    expect(rate, out).not.toBeNull();
    const [calls, handOuts, total] = (rate ?? []).slice(1).map(Number);
    expect(calls).toBeLessThanOrEqual(110);
    expect(handOuts).toBeLessThanOrEqual(110);
    // Every event once, the failures again, the malformed one 5 times.
    expect(total).toBeGreaterThan(1505);
    const dlq = /^check ok: the malformed event sits in new-posts-\w+\.push\.dlq \(1 dead letter\) after 5 attempts \(SyntaxError: .+\), gaps between attempts (\d+) ms, (\d+) ms, (\d+) ms, (\d+) ms$/m.exec(out);
    expect(dlq, out).not.toBeNull();
    const gaps = (dlq ?? []).slice(1).map(Number);
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThan(gaps[i - 1] ?? 0);
    expect(out).toMatch(/^check ok: search and analytics each saw the malformed event once and skipped it \(1, 1\)$/m);
    expect(out).not.toContain('check FAILED');
    expect(out).toMatch(/^all checks passed in [\d.]+ s$/m);
  }, 150_000);
});
