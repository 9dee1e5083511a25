// How an app's process is started: "braid.nodeOptions" and "braid.env" in
// apps/<app>/package.json (the broker's sized V8 heap and its malloc arenas,
// see README "Memory"). `npm start` and the bundle's `npm start` pass the
// options before main.js and set the variables, and so do the testkit, the
// tests and the benchmarks. An option whose flag NODE_OPTIONS also sets is
// left out, so NODE_OPTIONS=--max-old-space-size=1024 resizes the heap (a
// flag on the command line would otherwise win over NODE_OPTIONS); a
// variable already set in the environment keeps its value.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** Flag name of `--name=value` or `--name`. */
const flagOf = (option) => option.split('=')[0];

/** The default Node.js options in an app manifest, minus those NODE_OPTIONS sets. */
export function nodeOptionsOf(manifest, nodeOptions = process.env.NODE_OPTIONS ?? '') {
  const given = new Set(nodeOptions.split(/\s+/).filter((option) => option !== '').map(flagOf));
  return (manifest.braid?.nodeOptions ?? []).filter((option) => !given.has(flagOf(option)));
}

/** `env` with the app manifest's default variables added where `env` lacks them. */
export function envOf(manifest, env = process.env) {
  const defaults = Object.fromEntries(Object.entries(manifest.braid?.env ?? {}).filter(([name]) => env[name] === undefined));
  return { ...env, ...defaults };
}

/** The bundle's start command: the variables (unless set) and the options, then main.js (a POSIX shell line, as npm runs it). */
export function startScriptOf(manifest) {
  const variables = Object.entries(manifest.braid?.env ?? {}).map(([name, value]) => `${name}=\${${name}:-${value}}`);
  return [...variables, 'node', ...nodeOptionsOf(manifest, ''), 'main.js'].join(' ');
}

/** How `apps/<app>` in the workspace at `root` is started: its Node.js options and environment (the testkit's entry). */
export function appLaunch(root, app, env = process.env) {
  const manifest = appManifest(root, app);
  return { nodeOptions: nodeOptionsOf(manifest, env.NODE_OPTIONS ?? ''), env: envOf(manifest, env) };
}

/** The manifest of `apps/<app>` in the workspace at `root`. */
export function appManifest(root, app) {
  return JSON.parse(readFileSync(resolve(root, 'apps', app, 'package.json'), 'utf8'));
}
