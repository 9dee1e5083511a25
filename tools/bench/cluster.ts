/**
 * A throwaway Braid cluster for benchmarks: the coordinator and one or more
 * brokers built into their production bundles and started as real
 * processes (`@braid/testkit` `startLocalCluster`) on free loopback ports,
 * with storage in a temp dir that is removed afterwards.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startLocalCluster, workspaceRoot } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';

/** A running coordinator + brokers. */
export interface BenchCluster {
  /**
   * The first broker's address: the one address the SDK clients are given
   * (they learn the others from its metadata and route each partition to
   * its leader).
   */
  readonly brokerAddress: string;
  /** The brokers started here (for RSS and CPU), in start order; empty for an external broker. */
  readonly brokers: readonly AppProcess[];
  /** Their names: `broker` alone, else `broker-1`, `broker-2`, ... (their broker ids). */
  readonly brokerNames: readonly string[];
  /** The first broker process, if started here. */
  readonly broker: AppProcess | undefined;
  /** The coordinator process, if started here. */
  readonly coordinator: AppProcess | undefined;
  /** Stops the processes gracefully (so `--cpu-prof` profiles are written) and deletes the data dir. */
  stop(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface BenchClusterOptions {
  /** How many brokers (default 1). */
  brokers?: number;
  /** Extra flags of every broker. */
  brokerArgs?: string[];
  /** Extra environment variables of every broker (e.g. OTEL_*). */
  brokerEnv?: Record<string, string>;
}

/** Builds the coordinator and broker bundles and starts the coordinator and `brokers` brokers from them. */
export async function startCluster(options: BenchClusterOptions = {}): Promise<BenchCluster> {
  // Measure what production runs: the bundles, not tsx over the sources.
  for (const app of ['coordinator', 'broker']) {
    execFileSync(process.execPath, ['tools/bundle-app.mjs', app], { cwd: workspaceRoot, stdio: 'inherit' });
  }
  const cluster = await startLocalCluster({
    brokers: options.brokers ?? 1,
    bundle: true,
    env: { BRAID_LOG_LEVEL: 'warn' },
    brokerArgs: options.brokerArgs,
    brokerEnv: options.brokerEnv,
    brokerNodeArgs: brokerNodeArgs(),
  });
  return {
    brokerAddress: cluster.broker.address,
    brokers: cluster.brokers,
    brokerNames: cluster.brokers.map((_, i) => cluster.brokerId(i) ?? 'broker'),
    broker: cluster.broker,
    coordinator: cluster.coordinator,
    stop: () => cluster.stop(),
  };
}

/** An already running broker (nothing to stop, no process to measure). */
export function externalCluster(address: string): BenchCluster {
  return { brokerAddress: address, brokers: [], brokerNames: [], broker: undefined, coordinator: undefined, stop: () => Promise.resolve() };
}

/** CPU seconds used so far by each broker started here (undefined where unknown). */
export function brokersCpuSeconds(cluster: BenchCluster): (number | undefined)[] {
  return cluster.brokers.map((broker) => cpuSeconds(broker.pid));
}

/** Peak RSS of each broker started here. */
export function brokersPeakRssBytes(cluster: BenchCluster): (number | undefined)[] {
  return cluster.brokers.map((broker) => peakRssBytes(broker.pid));
}

/** CPU cores each broker used between two `brokersCpuSeconds` readings `seconds` apart. */
export function coresBetween(before: readonly (number | undefined)[], after: readonly (number | undefined)[], seconds: number): (number | undefined)[] {
  return after.map((end, i) => {
    const start = before[i];
    return end === undefined || start === undefined ? undefined : (end - start) / seconds;
  });
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
