/**
 * A coordinator and a broker as real processes on free loopback ports with
 * data in a temporary directory: what most integration tests need.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from './app-process.js';
import type { AppProcess } from './app-process.js';

/** Options of `startLocalCluster`. */
export interface LocalClusterOptions {
  /** Extra broker arguments. */
  brokerArgs?: string[];
  /** Extra coordinator arguments. */
  coordinatorArgs?: string[];
  /** Extra broker environment variables (e.g. `BRAID_FAULT_POINT`). */
  brokerEnv?: Record<string, string>;
}

/** A running coordinator + broker. */
export class LocalCluster {
  constructor(
    readonly dataDir: string,
    public coordinator: AppProcess,
    public broker: AppProcess,
    private readonly options: LocalClusterOptions,
  ) {}

  /** The broker's data directory. */
  get brokerDataDir(): string {
    return join(this.dataDir, 'broker');
  }

  /**
   * Starts the broker again (after a stop or kill) on the same port and
   * data; `env` replaces the cluster's `brokerEnv` for this and later starts.
   */
  async restartBroker(env?: Record<string, string>): Promise<AppProcess> {
    if (this.broker.alive) await this.broker.stop();
    if (env) this.options.brokerEnv = env;
    this.broker = await startApp('broker', {
      args: brokerArgs(this.dataDir, this.coordinator.address, this.broker.port, this.options.brokerArgs),
      env: this.options.brokerEnv,
    });
    return this.broker;
  }

  /** Starts the coordinator again on the same port and data. */
  async restartCoordinator(): Promise<AppProcess> {
    if (this.coordinator.alive) await this.coordinator.stop();
    this.coordinator = await startApp('coordinator', {
      args: ['--data-dir', join(this.dataDir, 'coordinator'), '--port', String(this.coordinator.port), ...(this.options.coordinatorArgs ?? [])],
    });
    return this.coordinator;
  }

  /** Kills both processes and removes the data. */
  async destroy(): Promise<void> {
    await Promise.all([this.broker.kill9(), this.coordinator.kill9()]);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function brokerArgs(dataDir: string, coordinator: string, port: number | undefined, extra: string[] = []): string[] {
  return [
    '--data-dir',
    join(dataDir, 'broker'),
    '--coordinator',
    coordinator,
    ...(port === undefined ? [] : ['--port', String(port)]),
    ...extra,
  ];
}

/** Starts a coordinator, then a broker registered with it. */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'braid-cluster-'));
  const coordinator = await startApp('coordinator', {
    args: ['--data-dir', join(dataDir, 'coordinator'), ...(options.coordinatorArgs ?? [])],
  });
  const broker = await startApp('broker', { args: brokerArgs(dataDir, coordinator.address, undefined, options.brokerArgs), env: options.brokerEnv });
  return new LocalCluster(dataDir, coordinator, broker, { ...options });
}
