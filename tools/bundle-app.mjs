#!/usr/bin/env node
// Bundles one app into a deployable unit in dist/apps/<app>/ (or --outdir):
//
//   main.js (+ .map)   the app and the workspace libs it uses, from their
//                      TypeScript sources, as one ESM file (esbuild). npm
//                      packages stay external: native addons such as RocksDB
//                      cannot be bundled, and keeping the rest external means
//                      the bundle runs the exact files the tests ran.
//   package.json       `@braid/<app>`, "type": "module", `npm start` (with the
//                      app's Node.js options and variables, app-node-options.mjs), and as
//                      "dependencies" exactly the npm packages main.js loads
//                      at run time, pinned to the versions the workspace has.
//   console/ ...       files the app serves, when it has apps/<app>/bundle-assets.mjs
//                      (dlq-admin's web console; see the end of this file).
//   package-lock.json  so `npm ci --omit=dev` in the directory installs those
//                      packages and their dependencies at the workspace's
//                      versions, and the bundle starts with `node main.js` on
//                      a host that has nothing but this directory.
//
// In the workspace, main.js finds its packages in the root node_modules
// (Node walks up from dist/apps/<app>), so `npm start` needs no install step.
//
// Which packages: the external imports in esbuild's metafile (static and
// literal dynamic imports), reduced to package names (`@grpc/grpc-js/x` ->
// `@grpc/grpc-js`), node builtins left out. esbuild cannot see packages
// loaded through `createRequire` (libs/storage loads `rocksdb` that way), so
// the bundled sources that call `createRequire` are scanned for
// `<binding>('<package>')`; a call with anything but a string literal fails
// the build rather than ship a bundle that cannot start.
//
// The lockfile is derived from the workspace's package-lock.json, not
// resolved again: the entries reachable from those dependencies (dependencies,
// optional dependencies and required peers, following Node's nested
// node_modules lookup exactly as the workspace lockfile lays it out) are
// copied with their versions, integrity hashes and install-script flags;
// everything else (dev tools, other apps' packages, workspace links) is left
// out. That is plain JSON work (milliseconds, no registry access at build
// time), so every `nx build <app>` writes it and `npm start` stays fast; and
// the host installs the very versions CI tested, not whatever
// `npm install --package-lock-only` would resolve on the day. `npm ci` then
// fetches them from the registry (or the npm cache with --prefer-offline).
// `allowScripts` carries the workspace's approvals for the packages kept
// (rocksdb's install script only checks that its bundled prebuild loads).
//
//   node tools/bundle-app.mjs broker [--outdir /tmp/broker-bundle]
import { build } from 'esbuild';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startScriptOf } from './app-node-options.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { outdir: { type: 'string' } },
});
const app = positionals[0];
if (!app || positionals.length > 1 || !existsSync(resolve(root, 'apps', app, 'src/main.ts'))) {
  console.error(`usage: node tools/bundle-app.mjs <app> [--outdir <dir>]   (no apps/${app ?? '?'}/src/main.ts)`);
  process.exit(2);
}
const outDir = resolve(options.outdir ?? resolve(root, 'dist/apps', app));

/** Keeps every bare import external except the workspace's own @braid/* libs. */
const externalNpmPackages = {
  name: 'external-npm-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('@braid/')) return undefined;
      return { path: args.path, external: true };
    });
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: [resolve(root, 'apps', app, 'src/main.ts')],
  outfile: resolve(outDir, 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@braid/source'],
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
  plugins: [externalNpmPackages],
  banner: { js: `// Built by tools/bundle-app.mjs from apps/${app}; do not edit.` },
  write: false,
});

/**
 * Replaces `path` in one step (a temporary file renamed over it): a process
 * started from the bundle while it is rebuilt (tests run in parallel, and
 * several rebuild the bundles) reads the old file or the new one, never half
 * of one.
 */
function writeAtomically(path, data) {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

for (const file of result.outputFiles) writeAtomically(file.path, file.contents);

const builtins = new Set(builtinModules);

/** `@scope/name/sub/path` -> `@scope/name`, `name/sub` -> `name`; undefined for node builtins. */
function packageName(specifier) {
  if (specifier.startsWith('node:') || builtins.has(specifier.split('/')[0])) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Packages a source file loads through `createRequire`: esbuild leaves such
 * calls alone, so they are not in the metafile.
 */
function createRequirePackages(file) {
  const source = readFileSync(resolve(root, file), 'utf8');
  const found = [];
  for (const [, binding] of source.matchAll(/(\w+)\s*=\s*createRequire\s*\(/g)) {
    for (const call of source.matchAll(new RegExp(`\\b${binding}\\s*\\(([^)]*)\\)`, 'g'))) {
      const literal = /^\s*(['"])([^'"]+)\1\s*$/.exec(call[1]);
      if (!literal) {
        throw new Error(`${file}: ${call[0]} loads a module bundle-app.mjs cannot name; use a string literal`);
      }
      const name = packageName(literal[2]);
      if (name && !literal[2].startsWith('.')) found.push(name);
    }
  }
  return found;
}

const [output] = Object.values(result.metafile.outputs).filter((o) => o.entryPoint !== undefined);
if (!output) throw new Error('esbuild reported no output for the entry point');
const bundledInputs = Object.entries(output.inputs)
  .filter(([, input]) => input.bytesInOutput > 0)
  .map(([file]) => file);
const runtimePackages = new Set();
for (const imported of output.imports) {
  const name = imported.external ? packageName(imported.path) : undefined;
  if (name) runtimePackages.add(name);
}
for (const file of bundledInputs) {
  if (readFileSync(resolve(root, file), 'utf8').includes('createRequire')) {
    for (const name of createRequirePackages(file)) runtimePackages.add(name);
  }
}

const rootManifest = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8'));
const appManifest = JSON.parse(readFileSync(resolve(root, 'apps', app, 'package.json'), 'utf8'));
const workspaceLock = JSON.parse(readFileSync(resolve(root, 'package-lock.json'), 'utf8'));
const lockPackages = workspaceLock.packages;

// The bundle hoists every package to its own node_modules. A workspace
// package with a nested copy (libs/x/node_modules/pkg, a version conflict)
// would silently get the root version instead, so refuse.
const bundledPackageDirs = new Set(
  bundledInputs.map((file) => /^((?:libs|apps)\/[^/]+)\//.exec(file)?.[1]).filter(Boolean),
);
for (const dir of bundledPackageDirs) {
  for (const name of runtimePackages) {
    if (lockPackages[`${dir}/node_modules/${name}`]) {
      throw new Error(`${dir} has its own copy of ${name}; a bundle can hold only one version of it`);
    }
  }
}

/** Where Node finds `name` from the package at lockfile path `from` ('' is the root). */
function resolveInLock(from, name) {
  let base = from;
  for (;;) {
    const candidate = `${base === '' ? '' : `${base}/`}node_modules/${name}`;
    if (lockPackages[candidate]) return candidate;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent < 0 ? '' : base.slice(0, parent);
  }
}

const dependencies = {};
for (const name of [...runtimePackages].sort()) {
  const entry = lockPackages[`node_modules/${name}`];
  if (!entry || entry.link) {
    throw new Error(`apps/${app} imports ${name}, which package-lock.json does not install from npm at node_modules/${name}`);
  }
  const installed = resolve(root, 'node_modules', name, 'package.json');
  if (existsSync(installed)) {
    const { version } = JSON.parse(readFileSync(installed, 'utf8'));
    if (version !== entry.version) {
      throw new Error(`node_modules/${name} is ${version} but package-lock.json says ${entry.version}; run npm ci`);
    }
  }
  dependencies[name] = entry.version;
}

// Walk the lockfile from the direct dependencies. `optionalOnly` records
// whether a package is reached only through optional edges, so npm may skip
// it (e.g. a binary for another platform) as it does in the workspace.
const kept = new Map();
const queue = Object.keys(dependencies).map((name) => [`node_modules/${name}`, false]);
while (queue.length > 0) {
  const [path, optionalOnly] = queue.pop();
  const seen = kept.get(path);
  if (seen === false || (seen === true && optionalOnly)) continue;
  kept.set(path, optionalOnly);
  const entry = lockPackages[path];
  const edges = [
    ...Object.keys(entry.dependencies ?? {}).map((name) => [name, false]),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name) => [name, true]),
    // npm installs required peers; optional ones only if something else needs them.
    ...Object.keys(entry.peerDependencies ?? {})
      .filter((name) => entry.peerDependenciesMeta?.[name]?.optional !== true)
      .map((name) => [name, false]),
  ];
  for (const [name, optionalEdge] of edges) {
    const target = resolveInLock(path, name);
    if (!target) {
      if (optionalEdge) continue;
      throw new Error(`package-lock.json has no ${name} for ${path}; run npm install`);
    }
    if (lockPackages[target].link) throw new Error(`${path} depends on the workspace package ${name}`);
    queue.push([target, optionalOnly || optionalEdge]);
  }
}

const manifest = {
  name: appManifest.name ?? `@braid/${app}`,
  version: appManifest.version ?? rootManifest.version,
  description: `Braid ${app}, bundled by tools/bundle-app.mjs: run \`npm ci --omit=dev\`, then \`npm start\` or \`node main.js --help\`.`,
  private: true,
  license: appManifest.license ?? rootManifest.license,
  type: 'module',
  main: 'main.js',
  scripts: { start: startScriptOf(appManifest) },
  engines: { node: rootManifest.engines?.node ?? '>=20' },
  dependencies,
};
const lockedNames = new Set([...kept.keys()].map((path) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)));
const allowScripts = Object.fromEntries(
  Object.entries(rootManifest.allowScripts ?? {}).filter(([name]) => lockedNames.has(name)),
);
if (Object.keys(allowScripts).length > 0) manifest.allowScripts = allowScripts;
// The workspace's `overrides` of the packages kept (the Prometheus exporter
// shares the one OpenTelemetry SDK): the lockfile was resolved under them,
// and `npm ci` checks it against them.
const overrides = Object.fromEntries(Object.entries(rootManifest.overrides ?? {}).filter(([name]) => lockedNames.has(name)));
if (Object.keys(overrides).length > 0) manifest.overrides = overrides;

const packages = {
  '': {
    name: manifest.name,
    version: manifest.version,
    license: manifest.license,
    dependencies,
    engines: manifest.engines,
  },
};
// Flags that describe the workspace's tree (dev, peer, ...) do not hold in
// the bundle's; optional is recomputed from the walk above.
const workspaceOnly = new Set(['dev', 'devOptional', 'optional', 'peer']);
for (const path of [...kept.keys()].sort()) {
  const entry = Object.fromEntries(Object.entries(lockPackages[path]).filter(([key]) => !workspaceOnly.has(key)));
  packages[path] = kept.get(path) ? { ...entry, optional: true } : entry;
}
const lockfile = { name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages };

mkdirSync(outDir, { recursive: true });
writeAtomically(resolve(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeAtomically(resolve(outDir, 'package-lock.json'), `${JSON.stringify(lockfile, null, 2)}\n`);

// Files an app serves besides its code (dlq-admin's web console): an app
// with `apps/<app>/bundle-assets.mjs` builds them into the bundle here, so
// every bundle (`nx build`, `--outdir`) holds everything it serves. They
// are browser code, built with everything they use, so they add no
// runtime dependencies.
const assetsScript = resolve(root, 'apps', app, 'bundle-assets.mjs');
if (existsSync(assetsScript)) {
  const { bundleAssets } = await import(pathToFileURL(assetsScript).href);
  await bundleAssets(outDir);
}
