#!/usr/bin/env node
// Bundles one app into dist/apps/<app>/main.js with esbuild: the app and the
// workspace libs it uses (from their TypeScript sources) become one ESM
// file; npm packages stay external and are resolved from node_modules at
// run time (native addons such as RocksDB cannot be bundled anyway).
//
//   node tools/bundle-app.mjs broker
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const app = process.argv[2];
if (!app || !existsSync(resolve(root, 'apps', app, 'src/main.ts'))) {
  console.error(`usage: node tools/bundle-app.mjs <app>   (no apps/${app ?? '?'}/src/main.ts)`);
  process.exit(2);
}

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

await build({
  entryPoints: [resolve(root, 'apps', app, 'src/main.ts')],
  outfile: resolve(root, 'dist/apps', app, 'main.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  conditions: ['@braid/source'],
  sourcemap: true,
  logLevel: 'warning',
  plugins: [externalNpmPackages],
  banner: { js: `// Built by tools/bundle-app.mjs from apps/${app}; do not edit.` },
});
