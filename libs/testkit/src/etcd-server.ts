/**
 * A real single-member etcd for integration tests: Debian's `etcd`
 * (package `etcd-server`, which does not start by itself) on free loopback
 * ports with its data in a temporary directory, stopped by PID. Several
 * coordinators can share one (`--etcd-endpoints <endpoint>`), as a
 * multi-coordinator deployment does. A missing binary fails the test with
 * the install command; it never skips it. Every etcd started here is killed
 * when the test process exits, so a failed test leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

/** Options of `startEtcd`. */
export interface StartEtcdOptions {
  /**
   * Data directory. Default: a new temporary directory, removed by `stop`
   * and `kill9`. A directory passed here belongs to the caller and is kept,
   * so an etcd can be started again on the same data (with `clientPort`).
   */
  dataDir?: string;
  /** Client port. Default: a free one. */
  clientPort?: number;
  /** How long to wait until etcd is healthy (ms). Default 30000. */
  readyTimeoutMs?: number;
  /** The etcd binary. Default: `/usr/bin/etcd`, else `etcd` on PATH. */
  binary?: string;
  /** Start it in its own process group (default false), out of reach of a terminal's Ctrl-C. */
  detached?: boolean;
}

/** Where Debian installs etcd; PATH is searched when it is not there. */
const debianEtcd = '/usr/bin/etcd';
const installHint = 'install it with `apt-get install -y etcd-server` (.ci/run does)';

/** How long `stop` waits after SIGTERM before SIGKILL (ms). */
const stopGraceMs = 10_000;

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    // Missing or not executable: not this one.
    return false;
  }
}

/**
 * The etcd binary: `binary` if given, else `/usr/bin/etcd`, else `etcd` on
 * PATH. Throws with the install command when there is none.
 */
export function etcdBinary(binary?: string): string {
  if (binary !== undefined) {
    if (isExecutable(binary)) return binary;
    throw new Error(`etcd is not installed at ${binary}: ${installHint}`);
  }
  if (isExecutable(debianEtcd)) return debianEtcd;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, 'etcd'))) return join(dir, 'etcd');
  }
  throw new Error(`etcd is not installed (no ${debianEtcd}, no etcd on PATH): ${installHint}`);
}

/** A running etcd member. */
export class EtcdServer {
  private output = '';
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;

  constructor(
    private readonly child: ChildProcess,
    /** The client port on 127.0.0.1. */
    readonly clientPort: number,
    /** Its data directory. */
    readonly dataDir: string,
    private readonly ownsDataDir: boolean,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    this.exited = once(child, 'exit').then(() => undefined);
    if (ownsDataDir) ownedDataDirs.add(dataDir);
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** `host:port` for clients (`--etcd-endpoints`). */
  get endpoint(): string {
    return `127.0.0.1:${this.clientPort}`;
  }

  /** The process id. */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error('etcd did not start');
    return this.child.pid;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything etcd printed so far. */
  get logs(): string {
    return this.output;
  }

  /** SIGTERM, SIGKILL if it has not exited after 10 s; then removes a data directory it created. */
  async stop(): Promise<void> {
    if (this.alive) {
      process.kill(this.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (this.alive) process.kill(this.pid, 'SIGKILL'); }, stopGraceMs);
      await this.exited;
      clearTimeout(timer);
    }
    this.removeDataDir();
  }

  /** kill -9; then removes a data directory it created. */
  async kill9(): Promise<void> {
    if (this.alive) process.kill(this.pid, 'SIGKILL');
    await this.exited;
    this.removeDataDir();
  }

  /** Removes the data directory if `startEtcd` created it. */
  removeDataDir(): void {
    if (!this.ownsDataDir) return;
    rmSync(this.dataDir, { recursive: true, force: true });
    ownedDataDirs.delete(this.dataDir);
  }
}

const running = new Set<EtcdServer>();
const ownedDataDirs = new Set<string>();
process.on('exit', () => {
  for (const server of running) if (server.alive) process.kill(server.pid, 'SIGKILL');
  for (const dir of ownedDataDirs) rmSync(dir, { recursive: true, force: true });
});

/** A free port other than `taken`. */
async function otherFreePort(taken: number): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== taken) return port;
  }
}

/**
 * Starts a single-member etcd on 127.0.0.1 and resolves once `/health`
 * reports healthy (it has elected itself leader and serves reads and
 * writes). Throws with the install command when etcd is missing, and with
 * etcd's output when it exits or is not healthy within `readyTimeoutMs`.
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const binary = etcdBinary(options.binary);
  const clientPort = options.clientPort ?? (await freePort());
  const peerPort = await otherFreePort(clientPort);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'braid-etcd-'));
  const name = 'braid-test';
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  // etcd also reads ETCD_* variables; a stray one in the test environment
  // must not change what is started here.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('ETCD_')));
  const child = spawn(
    binary,
    [
      '--name', name,
      '--data-dir', dataDir,
      '--listen-client-urls', clientUrl,
      '--advertise-client-urls', clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `${name}=${peerUrl}`,
      '--initial-cluster-token', `braid-test-${clientPort}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached ?? false },
  );
  const server = new EtcdServer(child, clientPort, dataDir, ownsDataDir);
  try {
    await waitUntilHealthy(server, options.readyTimeoutMs ?? 30_000);
  } catch (error) {
    await server.kill9();
    throw error;
  }
  return server;
}

/** Polls etcd's `/health` until it says healthy; fails with etcd's output if it exits or times out. */
async function waitUntilHealthy(server: EtcdServer, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!server.alive) throw new Error(`etcd exited before serving:\n${server.logs}`);
    try {
      const response = await fetch(`http://${server.endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await response.json()) as { health?: unknown };
      if (body.health === 'true') return;
    } catch {
      // Not listening yet: keep polling until the deadline.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`etcd did not become healthy within ${timeoutMs} ms:\n${server.logs}`);
}
