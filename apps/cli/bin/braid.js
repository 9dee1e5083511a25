#!/usr/bin/env node
// The `braid` command. Runs the bundle built by `nx build cli`
// (dist/apps/cli/main.js); in a checkout where it has not been built yet, or
// where a source file of the CLI or of a workspace lib changed since, builds
// it first (esbuild, well under a second), so `npx braid` never runs stale
// code.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bundle = fileURLToPath(new URL('../../../dist/apps/cli/main.js', import.meta.url));

/** Whether a `.ts` file under `dir` is newer than `since` (ms). */
function changedSince(dir, since) {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (changedSince(path, since)) return true;
    } else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > since) {
      return true;
    }
  }
  return false;
}

function stale() {
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  const sources = [join(root, 'apps/cli/src'), ...readdirSync(join(root, 'libs')).map((lib) => join(root, 'libs', lib, 'src'))];
  return sources.some((dir) => changedSince(dir, built));
}

if (stale()) {
  execFileSync(process.execPath, ['tools/bundle-app.mjs', 'cli'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
await import(pathToFileURL(bundle).href);
