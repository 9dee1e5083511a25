#!/usr/bin/env node
// `npm start`: runs coordinator, broker and dlq-admin on this machine, in the
// foreground, with embedded storage under ./data (override with
// BRAID_DATA_DIR). Each app is its own process, started from its bundle in
// dist/apps (npm start builds them first) with its Node.js options
// (app-node-options.mjs). Ctrl-C (or SIGTERM) stops them all
// gracefully; if one dies, the others are stopped too.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appManifest, envOf, nodeOptionsOf } from './app-node-options.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const dataDir = resolve(process.env.BRAID_DATA_DIR ?? join(root, 'data'));
const apps = [
  { name: 'coordinator', args: ['--data-dir', join(dataDir, 'coordinator')] },
  { name: 'broker', args: ['--data-dir', join(dataDir, 'broker')] },
  { name: 'dlq-admin', args: ['--data-dir', join(dataDir, 'dlq-admin')] },
];

const children = new Map();
let stopping = false;

function prefixLines(stream, name, out) {
  createInterface({ input: stream }).on('line', (line) => out.write(`[${name}] ${line}\n`));
}

// The coordinator goes last: a broker that stops deregisters with it, and
// it would otherwise be gone already (the broker then logs a failed
// deregistration and its lease lapses instead).
function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const [name, child] of children) if (name !== 'coordinator' && child.exitCode === null) child.kill(signal);
  stopCoordinatorWhenAlone(signal);
}

function stopCoordinatorWhenAlone(signal) {
  const coordinator = children.get('coordinator');
  if (coordinator && children.size === 1 && coordinator.exitCode === null) coordinator.kill(signal);
}

for (const app of apps) {
  const manifest = appManifest(root, app.name);
  const child = spawn(process.execPath, [...nodeOptionsOf(manifest), join(root, 'dist/apps', app.name, 'main.js'), ...app.args], {
    cwd: root,
    env: envOf(manifest),
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C at the terminal reaches only this
    // script, which passes on one SIGTERM. Otherwise each app got the
    // terminal's SIGINT and our SIGTERM together, took the second as
    // "exit now" and skipped its graceful stop.
    detached: true,
  });
  children.set(app.name, child);
  prefixLines(child.stdout, app.name, process.stdout);
  prefixLines(child.stderr, app.name, process.stderr);
  child.on('exit', (code, signal) => {
    children.delete(app.name);
    if (!stopping) {
      process.stderr.write(`[start] ${app.name} exited (${signal ?? code}); stopping the others\n`);
      process.exitCode = 1;
      stopAll('SIGTERM');
    }
    if (stopping) stopCoordinatorWhenAlone('SIGTERM');
    if (children.size === 0) process.stdout.write('[start] all stopped\n');
  });
}

// dlq-admin's web console (its --http-port, 7480 unless the variable moves it).
const consoleUrl = `http://localhost:${process.env.BRAID_DLQ_ADMIN_HTTP_PORT || '7480'}`;
process.stdout.write(
  `[start] coordinator :7400, broker :7401, dlq-admin :7402; data in ${dataDir}\n` +
    `[start] dead-letter console: ${consoleUrl}\n` +
    '[start] check with `npx braid health`; Ctrl-C stops everything\n',
);
process.on('SIGINT', () => stopAll('SIGTERM'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
