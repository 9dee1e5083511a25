// `npm run cluster` (tools/cluster/main.ts) as a user runs it: the script
// starts from the app bundles (built here the way `nx build` builds them),
// prints every address and pid, the brokers it started are live to the real
// CLI, and a SIGTERM, or a Ctrl-C at a terminal (SIGINT to the whole process
// group), stops every process it started, each gracefully, and removes the
// temporary data.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { once } from 'node:events';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli, runProcess, workspaceRoot } from '@braid/testkit';

interface Member {
  name: string;
  address: string;
  pid: number;
}

/** The script running as a child (in its own process group, as a shell runs a foreground job). */
class ClusterScript {
  private text = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => { this.text += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { this.text += chunk.toString(); });
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  get output(): string {
    return this.text;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('the cluster script did not start');
    return this.child.pid;
  }

  /** Waits until the summary is printed; returns the members it names and the data dir. */
  async ready(timeoutMs: number): Promise<{ members: Member[]; dataDir: string }> {
    await vi.waitFor(
      () => {
        if (this.child.exitCode !== null) throw new Error(`the cluster script exited:\n${this.text}`);
        if (!this.text.includes('[cluster] Ctrl-C (or SIGTERM) stops everything.')) throw new Error(`not ready yet:\n${this.text}`);
      },
      { timeout: timeoutMs, interval: 100 },
    );
    const members = [...this.text.matchAll(/^\[cluster\] {3}(\S+)\s+(\S+)\s+pid (\d+)$/gm)].map((m) => ({
      name: m[1] ?? '',
      address: m[2] ?? '',
      pid: Number(m[3]),
    }));
    const dataDir = /^\[cluster\] data: (\S+) \(removed on exit\)$/m.exec(this.text)?.[1] ?? '';
    return { members, dataDir };
  }
}

function startScript(args: string[]): ClusterScript {
  const child = spawn(process.execPath, ['--conditions=@braid/source', '--import', 'tsx', 'tools/cluster/main.ts', ...args], {
    cwd: workspaceRoot,
    env: { ...process.env, BRAID_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return new ClusterScript(child);
}

/** The direct children of `pid` (Linux `/proc`). */
function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
    readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter((p) => p.trim() !== '').map(Number),
  );
}

function isRunning(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/** After a failed test: nothing the script started outlives the test run. */
function killAll(script: ClusterScript, pids: readonly number[]): void {
  for (const pid of [script.pid, ...pids]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      // Already gone (the test passed): nothing to kill.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

async function brokersSeenByCli(address: string): Promise<{ brokerId: string; address: string; live: boolean }[]> {
  const result = await runCli(['--broker', address, 'cluster', 'brokers', '--json']);
  expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
  return result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { brokerId: string; address: string; live: boolean });
}

/**
 * Stops the script with `stop`, then checks that it exited 0, that every
 * app logged a graceful stop (not "second signal"), that every process it
 * had started is gone and that its data is removed.
 */
async function expectCleanStop(script: ClusterScript, members: readonly Member[], dataDir: string, stop: () => void): Promise<void> {
  const children = childrenOf(script.pid);
  expect(children).toEqual(expect.arrayContaining(members.map((m) => m.pid)));
  stop();
  const exit = await Promise.race([script.exited, new Promise((resolve) => setTimeout(resolve, 40_000, 'still running'))]);
  expect(exit, script.output).toEqual({ code: 0, signal: null });
  for (const member of members.filter((m) => m.name !== 'etcd')) {
    expect(script.output, member.name).toMatch(new RegExp(`^\\[${member.name}\\] \\{.*"msg":"stopped"\\}$`, 'm'));
  }
  expect(script.output).not.toContain('second signal');
  expect(script.output).toContain(`[cluster] stopped; removed ${dataDir}`);
  // Orphans would be re-parented and reaped by init within moments.
  await vi.waitFor(() => { expect(children.filter(isRunning)).toEqual([]); }, { timeout: 5_000, interval: 100 });
  expect(existsSync(dataDir)).toBe(false);
}

beforeAll(async () => {
  for (const app of ['coordinator', 'broker', 'dlq-admin']) {
    const result = await runProcess(process.execPath, ['tools/bundle-app.mjs', app], { cwd: workspaceRoot, timeoutMs: 60_000 });
    expect(result.code, `${result.stdout}${result.stderr}`).toBe(0);
  }
}, 120_000);

describe('npm run cluster', () => {
  it('starts 3 brokers that the CLI sees live, and stops every process on SIGTERM', async () => {
    const script = startScript(['--brokers', '3']);
    let pids: number[] = [];
    try {
      const { members, dataDir } = await script.ready(60_000);
      pids = members.map((m) => m.pid);
      expect(members.map((m) => m.name)).toEqual(['coordinator', 'broker-1', 'broker-2', 'broker-3', 'dlq-admin']);
      expect(existsSync(dataDir)).toBe(true);
      const brokers = members.filter((m) => m.name.startsWith('broker-'));
      expect(script.output).toContain(`[cluster] brokers: ${brokers.map((b) => b.address).join(',')}`);
      expect(script.output).toContain(`npx braid --broker ${brokers[0]?.address} cluster brokers`);

      const seen = await brokersSeenByCli(brokers[0]?.address ?? '');
      expect(seen.map(({ brokerId, address, live }) => ({ brokerId, address, live }))).toEqual(
        brokers.map((b) => ({ brokerId: b.name, address: b.address, live: true })),
      );

      await expectCleanStop(script, members, dataDir, () => { process.kill(script.pid, 'SIGTERM'); });
    } finally {
      killAll(script, pids);
    }
  }, 120_000);

  it('with --etcd, runs a real etcd under the coordinator, and a Ctrl-C at the terminal stops everything gracefully', async () => {
    const script = startScript(['--brokers', '3', '--etcd']);
    let pids: number[] = [];
    try {
      const { members, dataDir } = await script.ready(60_000);
      pids = members.map((m) => m.pid);
      expect(members.map((m) => m.name)).toEqual(['coordinator', 'etcd', 'broker-1', 'broker-2', 'broker-3', 'dlq-admin']);
      expect(script.output).toContain('[cluster] ready: 3 brokers, coordinator metadata in etcd');
      const brokers = members.filter((m) => m.name.startsWith('broker-'));
      // Asked through the last broker this time: any broker answers for the cluster.
      const seen = await brokersSeenByCli(brokers[2]?.address ?? '');
      expect(seen.map((b) => [b.brokerId, b.live])).toEqual([['broker-1', true], ['broker-2', true], ['broker-3', true]]);

      // A terminal's Ctrl-C sends SIGINT to the foreground process group.
      await expectCleanStop(script, members, dataDir, () => { process.kill(-script.pid, 'SIGINT'); });
    } finally {
      killAll(script, pids);
    }
  }, 120_000);
});
