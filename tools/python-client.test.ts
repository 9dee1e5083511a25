// Runs the polyglot example (examples/python/braid_example.py): a Python
// client generated from proto/ with Debian's grpcio checks the partitioning
// vectors, publishes through a real broker and consumes through Subscribe
// with credit and acks. CI installs python3-grpcio and python3-grpc-tools
// (.ci/run); without them this test fails rather than skips, so the Python
// client cannot rot unnoticed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runProcess, startLocalCluster, workspaceRoot } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

const python = '/usr/bin/python3';
const install = 'install with: apt-get update && apt-get install -y python3-grpcio python3-grpc-tools';

interface VectorFile {
  keys: unknown[];
  jumpHash: unknown[];
  rendezvous: unknown[];
  slots: { vectors: unknown[] };
}

function vectorCount(): number {
  const file = JSON.parse(readFileSync(join(workspaceRoot, 'proto/testdata/partitioning-vectors.json'), 'utf8')) as VectorFile;
  return file.keys.length + file.jumpHash.length + file.rendezvous.length + file.slots.vectors.length;
}

/** Runs a Python script without blocking the event loop (the cluster's processes log through it). */

function pythonHasGrpc(): { ok: boolean; why: string } {
  const probe = spawnSync(python, ['-c', 'import grpc, grpc_tools'], { encoding: 'utf8' });
  if (probe.error) return { ok: false, why: `${python}: ${probe.error.message}` };
  return { ok: probe.status === 0, why: probe.stderr.trim() };
}

describe('Python client (examples/python)', () => {
  let cluster: LocalCluster | undefined;

  beforeAll(async () => {
    if (pythonHasGrpc().ok) cluster = await startLocalCluster();
  }, 60_000);

  afterAll(async () => {
    await cluster?.destroy();
  });

  it('has Debian grpcio and grpc_tools', () => {
    const probe = pythonHasGrpc();
    expect(probe.ok, `${python} -c "import grpc, grpc_tools" failed (${probe.why}); ${install}`).toBe(true);
  });

  it('checks the partitioning vectors, publishes and consumes 1,000 records through a real broker', async () => {
    expect(pythonHasGrpc().ok, install).toBe(true);
    if (!cluster) throw new Error('cluster not started');
    const result = await runProcess(python, ['examples/python/braid_example.py', '--broker', cluster.broker.address, '--timeout', '50'], { cwd: workspaceRoot, timeoutMs: 55_000 });
    const output = `status ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
    expect(result.code, output).toBe(0);
    const total = vectorCount();
    expect(result.stdout, output).toContain(`partitioning vectors: ${total}/${total} passed`);
    expect(result.stdout, output).toMatch(/published 1000 records \(100 keys x 10\)/);
    expect(result.stdout, output).toMatch(/consumed 1000 records in \d+ batches \(credit window 100, max unsettled (\d+),/);
    const maxUnsettled = Number(/max unsettled (\d+)/.exec(result.stdout)?.[1]);
    expect(maxUnsettled).toBeLessThanOrEqual(100);
    expect(result.stdout, output).toContain('per-key order held for 100 keys');
    expect(result.stdout, output).toContain('python example: OK');
  }, 60_000);
});
