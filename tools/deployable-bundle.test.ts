// Deployable units: the broker's build (tools/bundle-app.mjs, what
// `nx build broker` runs) is a directory that starts on a host holding only
// that directory. The test builds it into a temporary directory outside the
// workspace, where Node cannot reach the workspace's node_modules, installs
// it the way a host would (`npm ci --omit=dev`), starts `node main.js` (with
// the broker's Node.js options, as its `npm start` does) from there against a coordinator (with its Prometheus endpoint, whose exporter
// must load from the bundle too), publishes and reads back one record, and
// stops it with SIGTERM. `npm ci` needs the npm registry or an npm cache
// holding the locked packages; without either this test fails, never skips.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer } from '@braid/client';
import { AppProcess, freePort, runProcess, startApp, waitUntilServing, workspaceRoot } from '@braid/testkit';

interface Manifest {
  name: string;
  type: string;
  main: string;
  scripts: Record<string, string>;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, { version?: string; dependencies?: Record<string, string>; link?: boolean; dev?: boolean }>;
}

interface RunResult {
  status: number | null;
  output: string;
}

function readManifest(file: string): Manifest {
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

/** How the broker is started ("braid" in apps/broker/package.json: its sized heap and malloc arenas). */
const brokerLaunch = (JSON.parse(readFileSync(join(workspaceRoot, 'apps/broker/package.json'), 'utf8')) as { braid: { nodeOptions: string[]; env: Record<string, string> } }).braid;
const brokerNodeOptions = brokerLaunch.nodeOptions;

function readLockfile(file: string): Lockfile {
  return JSON.parse(readFileSync(file, 'utf8')) as Lockfile;
}

/**
 * The environment of a host that has only the bundle: nothing inherited
 * from the npm script or test runner that started this test can point Node
 * or npm back at the workspace.
 */
function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|VITEST)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

/** Runs a command as on a host with only the bundle; kills it after `timeoutMs`. */
async function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<RunResult> {
  const { code, stdout, stderr } = await runProcess(command, args, { cwd, env: hostEnv(), timeoutMs });
  return { status: code, output: `${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${stdout}${stderr}` };
}

describe('deployable broker bundle', () => {
  let dir: string;
  let bundle: string;
  let coordinator: AppProcess | undefined;
  let broker: AppProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'braid-deployable-'));
    bundle = join(dir, 'broker');
  });

  afterAll(async () => {
    await broker?.kill9();
    await coordinator?.kill9();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lives outside the workspace, where the workspace node_modules are out of reach', () => {
    const fromWorkspace = relative(workspaceRoot, dir);
    expect(fromWorkspace.startsWith('..') || isAbsolute(fromWorkspace), `${dir} is inside ${workspaceRoot}`).toBe(true);
    for (let parent = dir; ; parent = join(parent, '..')) {
      expect(existsSync(join(parent, 'node_modules')), `${parent}/node_modules would be found by Node`).toBe(false);
      if (parent === join(parent, '..')) break;
    }
  });

  it('builds main.js, a package.json pinning exactly the npm packages it loads, and a lockfile', async () => {
    const result = await run(process.execPath, [join(workspaceRoot, 'tools/bundle-app.mjs'), 'broker', '--outdir', bundle], workspaceRoot, 30_000);
    expect(result.status, result.output).toBe(0);
    expect(existsSync(join(bundle, 'main.js'))).toBe(true);

    const manifest = readManifest(join(bundle, 'package.json'));
    // `npm start` sets the broker's variables (unless set) and passes its Node.js options before main.js.
    expect(brokerLaunch.env).toEqual({ MALLOC_ARENA_MAX: '2' });
    expect(manifest).toMatchObject({ name: '@braid/broker', type: 'module', main: 'main.js', scripts: { start: `MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX:-2} node ${brokerNodeOptions.join(' ')} main.js` } });
    expect(manifest.engines.node).toMatch(/^>=20/);
    const names = Object.keys(manifest.dependencies);
    // grpc-js is imported statically; rocksdb only through createRequire in
    // libs/storage, which esbuild's metafile does not show.
    expect(names).toEqual(expect.arrayContaining(['@grpc/grpc-js', 'rocksdb', 'pino', 'zod']));
    expect(names.filter((name) => name.startsWith('@braid/') || name.startsWith('node:'))).toEqual([]);
    // Nothing the broker does not load: no build or test tools, no CLI-only packages.
    for (const devOnly of ['esbuild', 'vitest', 'typescript', 'nx', '@nxtedition/rocksdb']) expect(names).not.toContain(devOnly);

    const workspaceLock = readLockfile(join(workspaceRoot, 'package-lock.json'));
    const lock = readLockfile(join(bundle, 'package-lock.json'));
    expect(lock.lockfileVersion).toBe(3);
    expect(lock.packages['']?.dependencies).toEqual(manifest.dependencies);
    for (const [name, version] of Object.entries(manifest.dependencies)) {
      expect(version, name).toBe(workspaceLock.packages[`node_modules/${name}`]?.version);
    }
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '') continue;
      expect(entry.version, path).toBe(workspaceLock.packages[path]?.version);
      expect(entry.link ?? entry.dev ?? false, path).toBe(false);
    }
  }, 40_000);

  it('does not start before npm ci: it has no packages of its own', async () => {
    const result = await run(process.execPath, ['main.js', '--help'], bundle, 30_000);
    expect(result.status, result.output).not.toBe(0);
    expect(result.output).toContain('ERR_MODULE_NOT_FOUND');
  }, 40_000);

  it('installs with npm ci --omit=dev, using the RocksDB prebuild (no compiler)', async () => {
    const result = await run('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], bundle, 280_000);
    expect(result.status, result.output).toBe(0);
    expect(existsSync(join(bundle, 'node_modules/rocksdb/prebuilds/linux-x64'))).toBe(true);
    // node-gyp-build writes build/ only when it had to compile.
    expect(existsSync(join(bundle, 'node_modules/rocksdb/build'))).toBe(false);
    expect(existsSync(join(bundle, 'node_modules/esbuild'))).toBe(false);

    const help = await run(process.execPath, ['main.js', '--help'], bundle, 30_000);
    expect(help.status, help.output).toBe(0);
    expect(help.output).toContain('--coordinator');
  }, 300_000);

  it('starts with node main.js, serves, stores a record and stops cleanly on SIGTERM', async () => {
    coordinator = await startApp('coordinator', { args: ['--data-dir', join(dir, 'coordinator-data')] });
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [...brokerNodeOptions, 'main.js', '--port', String(port), '--host', '127.0.0.1', '--data-dir', join(dir, 'broker-data'), '--coordinator', coordinator.address, '--metrics-port', '0'],
      { cwd: bundle, env: { ...hostEnv(), ...brokerLaunch.env, BRAID_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    broker = new AppProcess('broker', child, port);
    await waitUntilServing(broker, 30_000);
    expect(broker.logs).toContain('"msg":"broker serving"');
    // The heap is the sized one (384 MiB of old space plus the young generation), not V8's default of a quarter of RAM.
    const heapLimitMiB = Number(/"heapLimitMiB":(\d+)/.exec(broker.logs)?.[1]);
    expect(heapLimitMiB).toBeGreaterThan(384);
    expect(heapLimitMiB).toBeLessThan(512);
    // The Prometheus exporter loads from the bundle's own node_modules too.
    const metricsUrl = broker.metricsUrl ?? '';
    const scrape = await fetch(metricsUrl);
    expect(scrape.status).toBe(200);
    expect(await scrape.text()).toContain('service_name="braid-broker"');

    const admin = new Admin({ brokers: broker.address });
    const producer = new Producer({ brokers: broker.address });
    try {
      await admin.createTopic('deployable', { partitions: 1 });
      const sent = await producer.send('deployable', { key: 'k', value: 'from the bundle' });
      const read = await admin.readRecords('deployable', sent.partition, { fromOffset: sent.offset, maxRecords: 1 });
      expect(read.records.map((r) => r.value.toString())).toEqual(['from the bundle']);
    } finally {
      await producer.close();
      admin.close();
    }

    const exit = await broker.stop('SIGTERM');
    expect(exit, broker.logs).toEqual({ code: 0, signal: null });
    expect(broker.logs).toContain('"msg":"stopped"');
  }, 90_000);
});
