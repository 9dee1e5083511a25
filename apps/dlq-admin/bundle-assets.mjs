#!/usr/bin/env node
// Builds dlq-admin's web console (apps/dlq-admin/console: Preact + TypeScript)
// into <outDir>/console/: index.html, console.js (+ .map) and console.css,
// minified, with no other files and nothing loaded from elsewhere at run
// time. tools/bundle-app.mjs calls `bundleAssets(outDir)` of an app that has
// this file, so `nx build dlq-admin` (dist/apps/dlq-admin/console/) and any
// `--outdir` bundle contain everything dlq-admin serves. Tests that run
// dlq-admin from source build into a temporary directory and pass
// `--console-dir`:
//
//   node apps/dlq-admin/bundle-assets.mjs <outDir>    # writes <outDir>/console/
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const appDir = fileURLToPath(new URL('.', import.meta.url));
const consoleSrc = resolve(appDir, 'console');

/**
 * Writes the console into `<outDir>/console/` (emptied first) and returns
 * that directory.
 */
export async function bundleAssets(outDir, { minify = true } = {}) {
  const dir = resolve(outDir, 'console');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    absWorkingDir: consoleSrc,
    entryPoints: { console: resolve(consoleSrc, 'src/main.tsx') },
    outdir: dir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // Browsers of the last few years; the console uses nothing newer.
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: 'linked',
    legalComments: 'eof',
    logLevel: 'warning',
    // Browser code: no Node condition may select a server build of a package.
    conditions: ['browser', 'import', 'default'],
    banner: { js: '// Built by apps/dlq-admin/bundle-assets.mjs from apps/dlq-admin/console; do not edit.' },
  });
  copyFileSync(resolve(consoleSrc, 'index.html'), resolve(dir, 'index.html'));
  copyFileSync(resolve(consoleSrc, 'console.css'), resolve(dir, 'console.css'));
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir || process.argv.length > 3) {
    console.error('usage: node apps/dlq-admin/bundle-assets.mjs <outDir>   (writes <outDir>/console/)');
    process.exit(2);
  }
  console.log(await bundleAssets(outDir));
}
