/**
 * `npm run cluster -- --brokers 3 [--etcd]`: a local multi-broker cluster
 * in the foreground. A coordinator, N brokers and a dlq-admin, each its own
 * process started from its bundle in dist/apps (the npm script builds them
 * first), on free loopback ports (`--base-port` fixes them), with data in a
 * temporary directory that is removed on exit (`--data-dir` keeps it).
 * With `--etcd`, a real etcd (Debian's etcd-server) holds the
 * coordinator's metadata. Prints every address and pid, then the apps'
 * logs. Ctrl-C or SIGTERM stops the brokers and dlq-admin, then the
 * coordinator, then etcd, each gracefully.
 *
 * The processes run in their own process groups so that a Ctrl-C at the
 * terminal reaches only this script, which stops them in order; a process
 * that dies meanwhile is reported and the others keep running (kill a
 * broker to watch the cluster without it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { etcdBinary, startLocalCluster, workspaceRoot } from '@braid/testkit';
import type { LocalCluster, LocalClusterPorts } from '@braid/testkit';
import { forwardAppLogs } from './app-logs.js';
import type { LineSink } from './app-logs.js';
import { formatSummary } from './summary.js';
import type { ClusterMember } from './summary.js';

interface ClusterFlags {
  brokers: number;
  etcd?: boolean;
  dataDir?: string;
  basePort?: number;
  logLevel: string;
}

const apps = ['coordinator', 'broker', 'dlq-admin'];

const sink: LineSink = {
  stdout: (text) => { process.stdout.write(text); },
  stderr: (text) => { process.stderr.write(text); },
};

function say(text: string): void {
  process.stdout.write(`[cluster] ${text}\n`);
}

function count(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

/** Coordinator on `base`, brokers on the next ports, then dlq-admin, then etcd's client port. */
function fixedPorts(base: number, brokers: number): LocalClusterPorts {
  return {
    coordinator: base,
    brokers: Array.from({ length: brokers }, (_, i) => base + 1 + i),
    dlqAdmin: base + 1 + brokers,
    etcd: base + 2 + brokers,
  };
}

/** The bundles the cluster runs; a missing one means the build step was skipped. */
function missingBundles(): string[] {
  return apps.map((app) => join('dist/apps', app, 'main.js')).filter((file) => !existsSync(join(workspaceRoot, file)));
}

function members(cluster: LocalCluster): ClusterMember[] {
  return [
    { name: 'coordinator', address: cluster.coordinator.address, pid: cluster.coordinator.pid },
    ...(cluster.etcd ? [{ name: 'etcd', address: cluster.etcd.endpoint, pid: cluster.etcd.pid }] : []),
    ...cluster.brokers.map((broker, i) => ({ name: cluster.brokerId(i) ?? 'broker', address: broker.address, pid: broker.pid })),
    ...(cluster.dlqAdmin ? [{ name: 'dlq-admin', address: cluster.dlqAdmin.address, pid: cluster.dlqAdmin.pid }] : []),
  ];
}

/** Reports processes that exit on their own; resolves once every app has exited. */
function watchExits(cluster: LocalCluster, isStopping: () => boolean): Promise<void> {
  const named = members(cluster);
  const apps = cluster.apps.map((app) => ({ app, name: named.find((m) => m.pid === app.pid)?.name ?? app.app }));
  for (const { app, name } of apps) {
    void app.exited.then((exit) => {
      if (isStopping()) return;
      say(`${name} (pid ${app.pid}) exited (${exit.signal ?? `code ${exit.code}`}); the others keep running, Ctrl-C stops them`);
    });
  }
  void cluster.etcd?.exited.then(() => {
    if (!isStopping()) say(`etcd (pid ${cluster.etcd?.pid}) exited; the coordinator cannot keep its metadata; Ctrl-C stops the rest`);
  });
  return Promise.all(apps.map(({ app }) => app.exited)).then(() => undefined);
}

async function run(flags: ClusterFlags): Promise<void> {
  const missing = missingBundles();
  if (missing.length > 0) {
    throw new Error(`${missing.join(', ')} not built: run \`npm run cluster\` (it builds them) or \`npx nx run-many -t build --projects=tag:type:app\` first`);
  }
  // Fail before starting anything, with the install command.
  if (flags.etcd === true) etcdBinary();

  // A signal while the processes start is honoured once they have.
  const state: { cluster?: LocalCluster; signalled?: NodeJS.Signals; stopping?: Promise<void>; firstSignalAt: number } = { firstSignalAt: 0 };
  const stop = (signal: NodeJS.Signals): void => {
    const running = state.cluster;
    if (!running) {
      state.signalled ??= signal;
      return;
    }
    if (state.stopping) {
      // npm and the shell may pass one Ctrl-C on twice within moments;
      // only a later, deliberate second one means "now".
      if (Date.now() - state.firstSignalAt > 1000) {
        say('second signal: killing everything');
        void running.destroy().finally(() => process.exit(130));
      }
      return;
    }
    state.firstSignalAt = Date.now();
    say(`${signal}: stopping brokers and dlq-admin, then the coordinator${running.etcd ? ', then etcd' : ''}`);
    state.stopping = running.stop().then(() => {
      say(running.ownsDataDir ? `stopped; removed ${running.dataDir}` : `stopped; data kept in ${running.dataDir}`);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  say(`starting a coordinator${flags.etcd === true ? ' on etcd' : ''}, ${flags.brokers} broker${flags.brokers === 1 ? '' : 's'} and a dlq-admin from dist/apps`);
  const started = await startLocalCluster({
    brokers: flags.brokers,
    etcd: flags.etcd === true,
    dlqAdmin: true,
    bundle: true,
    detached: true,
    dataDir: flags.dataDir,
    ports: flags.basePort === undefined ? undefined : fixedPorts(flags.basePort, flags.brokers),
    env: { BRAID_LOG_LEVEL: flags.logLevel },
  });
  state.cluster = started;
  const everyone = members(started);
  for (const app of started.apps) forwardAppLogs(app, everyone.find((m) => m.pid === app.pid)?.name ?? app.app, sink);
  process.stdout.write(
    formatSummary({
      members: everyone,
      brokerAddresses: started.brokerAddresses,
      etcd: started.etcd !== undefined,
      dataDir: started.dataDir,
      dataKept: !started.ownsDataDir,
    }),
  );
  const allExited = watchExits(started, () => state.stopping !== undefined);
  if (state.signalled) stop(state.signalled);
  await allExited;
  if (state.stopping) {
    await state.stopping;
    return;
  }
  // Every app died on its own: nothing left to serve.
  say('every app has exited; stopping');
  await started.stop();
  process.exitCode = 1;
}

const program = new Command('cluster')
  .usage('[options]   (npm run cluster -- [options])')
  .description('run a local Braid cluster in the foreground: a coordinator, N brokers and a dlq-admin from their bundles, optionally on a real etcd')
  .option('--brokers <n>', 'how many brokers (ids broker-1, broker-2, ...)', count(1, 64), 3)
  .option('--etcd', "keep the coordinator's metadata in a real etcd (Debian's etcd-server: apt-get install -y etcd-server)")
  .option('--data-dir <dir>', 'keep the data in this directory, to start again on it (default: a temporary directory, removed on exit)')
  .option('--base-port <port>', 'coordinator on this port, brokers on the next ones, then dlq-admin, then etcd (default: free ports)', count(1, 65_000))
  .option('--log-level <level>', 'log level of the apps (trace, debug, info, warn, error, fatal, silent)', process.env['BRAID_LOG_LEVEL'] ?? 'info')
  .showHelpAfterError()
  .action(run);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`[cluster] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
