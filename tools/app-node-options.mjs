// The Node.js options an app runs with: "braid.nodeOptions" in
// apps/<app>/package.json (the broker's sized V8 heap, see README
// "Memory"). `npm start` and the bundle's `npm start` pass them before
// main.js; an option whose flag NODE_OPTIONS also sets is left out, so
// NODE_OPTIONS=--max-old-space-size=1024 resizes the heap (a flag on the
// command line would otherwise win over NODE_OPTIONS).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Flag name of `--name=value` or `--name`. */
const flagOf = (option) => option.split('=')[0];

/** The default Node.js options in an app manifest, minus those NODE_OPTIONS sets. */
export function nodeOptionsOf(manifest, nodeOptions = process.env.NODE_OPTIONS ?? '') {
  const given = new Set(nodeOptions.split(/\s+/).filter((option) => option !== '').map(flagOf));
  return (manifest.braid?.nodeOptions ?? []).filter((option) => !given.has(flagOf(option)));
}

/** The default Node.js options of `apps/<app>` in the workspace at `root`. */
export function appNodeOptions(root, app) {
  return nodeOptionsOf(JSON.parse(readFileSync(resolve(root, 'apps', app, 'package.json'), 'utf8')));
}
