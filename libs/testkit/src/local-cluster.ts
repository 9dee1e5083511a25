/**
 * A coordinator and one or more brokers as real processes on free loopback
 * ports with data in a temporary directory: what most integration tests
 * need, and what `npm run cluster` runs. With `etcd`, a real etcd (Debian's
 * etcd-server) is started too and the coordinator keeps its metadata there.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startApp } from './app-process.js';
import type { AppExit, AppProcess } from './app-process.js';
import { startEtcd } from './etcd-server.js';
import type { EtcdServer } from './etcd-server.js';
import { isPortFree } from './free-port.js';

/** Fixed ports of a local cluster's processes; a missing one is a free port. */
export interface LocalClusterPorts {
  coordinator?: number;
  /** Broker `i` listens on `brokers[i]`. */
  brokers?: readonly number[];
  dlqAdmin?: number;
  /** etcd's client port (its peer port is always a free one). */
  etcd?: number;
}

/** Options of `startLocalCluster`. */
export interface LocalClusterOptions {
  /** How many brokers (default 1). With several, they get the ids `broker-1`, `broker-2`, ... */
  brokers?: number;
  /** Start an etcd and keep the coordinator's metadata there (`--etcd-endpoints`). */
  etcd?: boolean;
  /** Start a dlq-admin too (default false). */
  dlqAdmin?: boolean;
  /** Extra broker arguments (every broker). */
  brokerArgs?: string[];
  /** Extra coordinator arguments. */
  coordinatorArgs?: string[];
  /** Extra broker environment variables (e.g. `BRAID_FAULT_POINT`). */
  brokerEnv?: Record<string, string>;
  /** Run the apps' production bundles (`dist/apps/<app>/main.js`) instead of the sources. */
  bundle?: boolean;
  /** Extra Node.js options of the brokers (e.g. `--max-old-space-size=384`). */
  brokerNodeArgs?: string[];
  /** Extra environment variables of every process (e.g. `BRAID_LOG_LEVEL`). */
  env?: Record<string, string>;
  /**
   * Keep the data here (created if missing; `coordinator/`, `broker/` or
   * `broker-<n>/`, `dlq-admin/`, `etcd/`) instead of a new temporary
   * directory: it belongs to the caller, survives `stop` and `destroy`,
   * and a cluster started again on it finds its topics and records.
   */
  dataDir?: string;
  /**
   * Fixed ports (default: free ones). Each must be free: a process that
   * cannot bind exits, but the health check would reach whatever else
   * listens there and take it for the new process.
   */
  ports?: LocalClusterPorts;
  /**
   * Start every process in its own process group (default false), so that
   * a Ctrl-C at a terminal reaches only the parent, which then stops them
   * in order with `stop()`. Without it, the terminal's SIGINT and the
   * parent's SIGTERM arrive together and the apps take the second signal
   * as "exit now, without a graceful stop".
   */
  detached?: boolean;
}

/** How long `stop` waits for a process after SIGTERM before SIGKILL (ms). */
const stopGraceMs = 15_000;

/** A running coordinator + brokers (+ dlq-admin, + etcd). */
export class LocalCluster {
  constructor(
    readonly dataDir: string,
    public coordinator: AppProcess,
    /** The brokers, in start order; `broker` is the first. */
    readonly brokers: AppProcess[],
    readonly etcd: EtcdServer | undefined,
    private readonly options: LocalClusterOptions,
    /** Whether `dataDir` is a temporary directory of this cluster (removed by `stop` and `destroy`). */
    readonly ownsDataDir = true,
    /** The dlq-admin, with the `dlqAdmin` option. */
    public dlqAdmin?: AppProcess,
  ) {}

  /** The first broker. */
  get broker(): AppProcess {
    const first = this.brokers[0];
    if (!first) throw new Error('the cluster has no broker');
    return first;
  }

  /** The brokers' addresses (host:port), in start order. */
  get brokerAddresses(): string[] {
    return this.brokers.map((broker) => broker.address);
  }

  /** Every app process: brokers, dlq-admin (if any), coordinator (etcd is `etcd`). */
  get apps(): AppProcess[] {
    return [...this.brokers, ...(this.dlqAdmin ? [this.dlqAdmin] : []), this.coordinator];
  }

  /** The data directory of broker `index` (default the first). */
  brokerDataDir(index = 0): string {
    return join(this.dataDir, this.brokerCount() > 1 || index > 0 ? `broker-${index + 1}` : 'broker');
  }

  /** The broker id given to broker `index`, or undefined when it chose its own (a one-broker cluster). */
  brokerId(index = 0): string | undefined {
    return this.brokerCount() > 1 ? `broker-${index + 1}` : undefined;
  }

  /**
   * Starts broker `index` (default the first) again, after a stop or kill,
   * on the same port and data; `env` replaces the cluster's `brokerEnv`
   * for this and later starts. A running broker is stopped gracefully first.
   */
  async restartBroker(env?: Record<string, string>, index = 0): Promise<AppProcess> {
    const previous = this.brokers[index];
    if (!previous) throw new Error(`the cluster has no broker ${index}`);
    if (previous.alive) await previous.stop();
    if (env) this.options.brokerEnv = env;
    const restarted = await this.startBroker(index, previous.port);
    this.brokers[index] = restarted;
    return restarted;
  }

  /** Starts the coordinator again on the same port and data. */
  async restartCoordinator(): Promise<AppProcess> {
    if (this.coordinator.alive) await this.coordinator.stop();
    this.coordinator = await startCoordinator(this.dataDir, this.etcd, this.options, this.coordinator.port);
    return this.coordinator;
  }

  /**
   * Stops everything gracefully: SIGTERM to the brokers and the dlq-admin,
   * then the coordinator (so brokers can still reach it while they stop),
   * then etcd; a process still running 15 s after its SIGTERM is killed.
   * Then removes the data, unless it was given as `dataDir`.
   */
  async stop(): Promise<void> {
    await Promise.all([...this.brokers, ...(this.dlqAdmin ? [this.dlqAdmin] : [])].map(stopWithin));
    await stopWithin(this.coordinator);
    await this.etcd?.stop();
    this.removeData();
  }

  /** Kills every process and removes the data (unless it was given as `dataDir`). */
  async destroy(): Promise<void> {
    await Promise.all(this.apps.map((app) => app.kill9()));
    await this.etcd?.kill9();
    this.removeData();
  }

  /** Starts broker `index` (on `port` if given, else its fixed port, if any). */
  startBroker(index: number, port?: number): Promise<AppProcess> {
    const id = this.brokerId(index);
    const fixedPort = port ?? this.options.ports?.brokers?.[index];
    return startApp('broker', {
      args: [
        '--data-dir',
        this.brokerDataDir(index),
        '--coordinator',
        this.coordinator.address,
        ...(id === undefined ? [] : ['--broker-id', id]),
        ...(fixedPort === undefined ? [] : ['--port', String(fixedPort)]),
        ...(this.options.brokerArgs ?? []),
      ],
      env: { ...this.options.env, ...this.options.brokerEnv },
      bundle: this.options.bundle,
      nodeArgs: this.options.brokerNodeArgs,
      detached: this.options.detached,
    });
  }

  private removeData(): void {
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  private brokerCount(): number {
    return this.options.brokers ?? 1;
  }
}

/** SIGTERM, and SIGKILL if `app` has not exited `stopGraceMs` later. */
async function stopWithin(app: AppProcess): Promise<AppExit> {
  const timer = setTimeout(() => { void app.kill9(); }, stopGraceMs);
  try {
    return await app.stop();
  } finally {
    clearTimeout(timer);
  }
}

function portArgs(port: number | undefined): string[] {
  return port === undefined ? [] : ['--port', String(port)];
}

function startCoordinator(dataDir: string, etcd: EtcdServer | undefined, options: LocalClusterOptions, port?: number): Promise<AppProcess> {
  return startApp('coordinator', {
    args: [
      '--data-dir',
      join(dataDir, 'coordinator'),
      ...(etcd ? ['--etcd-endpoints', etcd.endpoint] : []),
      ...portArgs(port ?? options.ports?.coordinator),
      ...(options.coordinatorArgs ?? []),
    ],
    env: options.env,
    bundle: options.bundle,
    detached: options.detached,
  });
}

/** The dlq-admin reaches the cluster through the coordinator, which answers admin and metadata calls. */
function startDlqAdmin(dataDir: string, coordinator: AppProcess, options: LocalClusterOptions): Promise<AppProcess> {
  return startApp('dlq-admin', {
    args: ['--data-dir', join(dataDir, 'dlq-admin'), '--broker', coordinator.address, ...portArgs(options.ports?.dlqAdmin)],
    env: options.env,
    bundle: options.bundle,
    detached: options.detached,
  });
}

/** Starts (etcd,) a coordinator, then the brokers (and dlq-admin) in parallel, registered with it. */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<LocalCluster> {
  const count = options.brokers ?? 1;
  if (!Number.isInteger(count) || count < 1) throw new Error(`brokers must be a positive integer, got ${count}`);
  const { coordinator: coordinatorPort, brokers: brokerPorts = [], dlqAdmin: dlqAdminPort, etcd: etcdPort } = options.ports ?? {};
  for (const port of [coordinatorPort, ...brokerPorts, dlqAdminPort, etcdPort]) {
    if (port !== undefined && !(await isPortFree(port))) throw new Error(`port ${port} is in use (another cluster or app listens there)`);
  }
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'braid-cluster-')) : resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const removeData = (): void => {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let etcd: EtcdServer | undefined;
  let coordinator: AppProcess | undefined;
  try {
    if (options.etcd === true) {
      etcd = await startEtcd({
        // A kept data dir keeps etcd's data too; a temporary one is etcd's own.
        dataDir: ownsDataDir ? undefined : join(dataDir, 'etcd'),
        clientPort: options.ports?.etcd,
        detached: options.detached,
      });
    }
    coordinator = await startCoordinator(dataDir, etcd, options);
    const cluster = new LocalCluster(dataDir, coordinator, [], etcd, { ...options }, ownsDataDir);
    const started = await Promise.allSettled([
      ...Array.from({ length: count }, (_, index) => cluster.startBroker(index)),
      ...(options.dlqAdmin === true ? [startDlqAdmin(dataDir, coordinator, options)] : []),
    ]);
    for (const [index, outcome] of started.entries()) {
      if (outcome.status !== 'fulfilled') continue;
      if (index < count) cluster.brokers.push(outcome.value);
      else cluster.dlqAdmin = outcome.value;
    }
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) {
      await cluster.destroy();
      throw failed.reason;
    }
    return cluster;
  } catch (error) {
    await coordinator?.kill9();
    await etcd?.kill9();
    removeData();
    throw error;
  }
}
