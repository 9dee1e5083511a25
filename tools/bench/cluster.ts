/**
 * A throwaway Braid cluster for benchmarks: coordinator and broker built
 * into their production bundles and started as real processes
 * (`@braid/testkit` `startApp`) on free loopback ports, with storage in a
 * temp dir that is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, workspaceRoot } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';

/** A running coordinator + broker. */
export interface BenchCluster {
  /** The broker's address. */
  readonly brokerAddress: string;
  /** The broker process (for RSS and CPU), if started here. */
  readonly broker: AppProcess | undefined;
  /** The coordinator process, if started here. */
  readonly coordinator: AppProcess | undefined;
  /** Stops the processes and deletes the data dir. */
  stop(): Promise<void>;
}

/** Starts coordinator + broker with extra broker flags. */
export async function startCluster(brokerArgs: string[] = []): Promise<BenchCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'braid-bench-'));
  let coordinator: AppProcess | undefined;
  let broker: AppProcess | undefined;
  const stop = async (): Promise<void> => {
    await broker?.stop();
    await coordinator?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    // Measure what production runs: the bundles, not tsx over the sources.
    for (const app of ['coordinator', 'broker']) {
      execFileSync(process.execPath, ['tools/bundle-app.mjs', app], { cwd: workspaceRoot, stdio: 'inherit' });
    }
    const env = { BRAID_LOG_LEVEL: 'warn' };
    coordinator = await startApp('coordinator', { args: ['--data-dir', join(dataDir, 'coordinator')], env, bundle: true });
    broker = await startApp('broker', {
      args: ['--coordinator', coordinator.address, '--data-dir', join(dataDir, 'broker'), ...brokerArgs],
      env,
      bundle: true,
      nodeArgs: brokerNodeArgs(),
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { brokerAddress: broker.address, broker, coordinator, stop };
}

/** An already running broker (nothing to stop, no process to measure). */
export function externalCluster(address: string): BenchCluster {
  return { brokerAddress: address, broker: undefined, coordinator: undefined, stop: () => Promise.resolve() };
}

/**
 * Node flags of the broker: `BRAID_BENCH_BROKER_NODE_ARGS` (space-separated,
 * e.g. `--max-old-space-size=384` to measure a broker with a sized heap),
 * and with `BRAID_BENCH_PROFILE_DIR=dir` a V8 CPU profile written there.
 */
function brokerNodeArgs(): string[] {
  const args = (process.env['BRAID_BENCH_BROKER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const profileDir = process.env['BRAID_BENCH_PROFILE_DIR'];
  if (profileDir) args.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  return args;
}

/** Peak resident set size of a process over its lifetime (`VmHWM`), in bytes. */
export function peakRssBytes(pid: number): number | undefined {
  return procStatusBytes(pid, 'VmHWM');
}

/** A process's resident set size now (`VmRSS`), or undefined where `/proc` is not available. */
export function currentRssBytes(pid: number): number | undefined {
  return procStatusBytes(pid, 'VmRSS');
}

function procStatusBytes(pid: number, field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
  } catch {
    // Not Linux, or the process is gone: report the figure as unknown.
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the command name (which may contain spaces) start at ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticksPerSecond = 100;
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    // Not Linux, or the process is gone: report the figure as unknown.
    return undefined;
  }
}
