#!/usr/bin/env node
// The `braid` command. Runs the bundle built by `nx build cli`
// (dist/apps/cli/main.js); on a fresh clone where it has not been built yet,
// builds it first (esbuild, well under a second).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = new URL('../../../dist/apps/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  execFileSync(process.execPath, ['tools/bundle-app.mjs', 'cli'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
await import(bundle.href);
