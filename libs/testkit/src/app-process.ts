/**
 * Starts a Braid app as a real child process (from its TypeScript source,
 * through tsx, with workspace libs resolved to their sources) on free
 * loopback ports, waits until its health check says SERVING, and stops it by
 * PID. Every process started here is killed when the test process exits, so
 * a failed test leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkHealth } from '@braid/client';
import { freePort } from './free-port.js';

/** The repository root. */
export const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Options of `startApp`. */
export interface StartAppOptions {
  /** Extra command-line arguments. `--port` and `--host` (and a free `--http-port` for dlq-admin) are added unless given. */
  args?: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** How long to wait for SERVING (ms). Default 30000. */
  readyTimeoutMs?: number;
  /** Do not wait for SERVING (for apps expected to fail at start). */
  noWait?: boolean;
  /**
   * What to wait for (unless `noWait`): `serving` (default) until the
   * health check says SERVING; `listening` until it answers at all, e.g.
   * NOT_SERVING from a standby coordinator.
   */
  waitFor?: 'serving' | 'listening';
  /**
   * Run the built bundle (`dist/apps/<app>/main.js`, from `nx build <app>`)
   * instead of the TypeScript source: what production runs, for benchmarks.
   */
  bundle?: boolean;
  /**
   * Extra Node.js options before the entry point (e.g. `--cpu-prof`), after
   * the app's own (`braid.nodeOptions` in its package.json, which these
   * override: the last of two equal flags wins). `env` likewise overrides
   * the app's `braid.env`.
   */
  nodeArgs?: string[];
  /**
   * Start it in its own process group (default false): a Ctrl-C at the
   * terminal then reaches only the parent, which decides how to stop it.
   */
  detached?: boolean;
}

/** Exit of a child: code or signal. */
export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running app process. */
export class AppProcess {
  private output = '';
  readonly exited: Promise<AppExit>;

  constructor(
    readonly app: string,
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    child.stderr?.on('data', (chunk: Buffer) => { this.output += chunk.toString(); });
    this.exited = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
    }));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  /** host:port of the app's gRPC server. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The process id. */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.app} did not start`);
    return this.child.pid;
  }

  /** Everything the process printed so far (stdout and stderr). */
  get logs(): string {
    return this.output;
  }

  /** The Prometheus endpoint the app logged (`"metricsUrl"`, with `--metrics-port`), if any so far. */
  get metricsUrl(): string | undefined {
    for (const line of this.output.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const url = (JSON.parse(line) as { metricsUrl?: unknown }).metricsUrl;
        if (typeof url === 'string') return url;
      } catch {
        // Not a log line of the app's logger.
      }
    }
    return undefined;
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<AppExit> {
    if (this.alive) process.kill(this.pid, signal);
    return this.exited;
  }

  /** kill -9. */
  kill9(): Promise<AppExit> {
    return this.stop('SIGKILL');
  }
}

const running = new Set<AppProcess>();
process.on('exit', () => {
  for (const app of running) if (app.alive) app.child.kill('SIGKILL');
});

/** Flags of ports besides `--port` that an app binds by default, per app. */
const otherPortFlags: Readonly<Record<string, string>> = { 'dlq-admin': '--http-port' };

/** What tools/app-node-options.mjs gives for one app. */
interface AppLaunch {
  nodeOptions: string[];
  env: NodeJS.ProcessEnv;
}

/**
 * How `app` is started in production (`braid.nodeOptions` and `braid.env`
 * in apps/<app>/package.json: the broker's sized heap and malloc arenas),
 * from the module `npm start` and the bundles use, so that tests and
 * benchmarks run the app as users do, by the same rules (NODE_OPTIONS and
 * variables already set win).
 */
async function appLaunch(app: string): Promise<AppLaunch> {
  const tool = (await import(pathToFileURL(`${workspaceRoot}tools/app-node-options.mjs`).href)) as {
    appLaunch(root: string, app: string): AppLaunch;
  };
  return tool.appLaunch(workspaceRoot, app);
}

/** Starts `apps/<app>/src/main.ts` (or its bundle) and waits until it reports SERVING. */
export async function startApp(app: string, options: StartAppOptions = {}): Promise<AppProcess> {
  const args = [...(options.args ?? [])];
  let port: number;
  const portIndex = args.indexOf('--port');
  if (portIndex >= 0) port = Number(args[portIndex + 1]);
  else {
    port = await freePort();
    args.push('--port', String(port));
  }
  if (!args.includes('--host')) args.push('--host', '127.0.0.1');
  // Other ports an app binds by default (dlq-admin's web console, 7480):
  // a free one unless given, so that tests running in parallel never collide.
  const otherPortFlag = otherPortFlags[app];
  if (otherPortFlag !== undefined && !args.includes(otherPortFlag)) args.push(otherPortFlag, '0');
  const entry = options.bundle
    ? [`dist/apps/${app}/main.js`]
    : ['--conditions=@braid/source', '--import', 'tsx', `apps/${app}/src/main.ts`];
  const launch = await appLaunch(app);
  const child = spawn(
    process.execPath,
    [...launch.nodeOptions, ...(options.nodeArgs ?? []), ...entry, ...args],
    {
      cwd: workspaceRoot,
      env: { ...launch.env, BRAID_LOG_LEVEL: 'info', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    },
  );
  const handle = new AppProcess(app, child, port);
  if (!options.noWait) {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    if (options.waitFor === 'listening') await waitUntilListening(handle, timeoutMs);
    else await waitUntilServing(handle, timeoutMs);
  }
  return handle;
}

/** Polls the health check until SERVING; fails with the app's output if it exits or times out. */
export function waitUntilServing(handle: AppProcess, timeoutMs: number): Promise<void> {
  return pollHealth(handle, timeoutMs, { before: 'serving', report: 'SERVING' }, (status) => status === 'SERVING');
}

/**
 * Polls the health check until it answers with any status (the app
 * listens, whether it serves or not, like a standby coordinator); fails
 * with the app's output if it exits or times out.
 */
export function waitUntilListening(handle: AppProcess, timeoutMs: number): Promise<void> {
  return pollHealth(handle, timeoutMs, { before: 'listening', report: 'a health status' }, () => true);
}

async function pollHealth(
  handle: AppProcess,
  timeoutMs: number,
  what: { before: string; report: string },
  done: (status: string) => boolean,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!handle.alive) {
      throw new Error(`${handle.app} exited before ${what.before}:\n${handle.logs}`);
    }
    try {
      if (done(await checkHealth(handle.address, { timeoutMs: 1000 }))) return;
    } catch {
      // Not listening yet: keep polling until the deadline.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await handle.kill9();
  throw new Error(`${handle.app} did not report ${what.report} within ${timeoutMs} ms:\n${handle.logs}`);
}
