// `npm start` (tools/start.mjs): coordinator, broker and dlq-admin from
// their bundles, each started with its launch settings ("braid" in its
// package.json), and one Ctrl-C that stops them all, the coordinator last
// so that the broker can deregister. Ports and data move through the apps'
// own variables, so the test does not touch ./data or the default ports.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkHealth } from '@braid/client';
import { freePort, workspaceRoot } from '@braid/testkit';

const dir = mkdtempSync(join(tmpdir(), 'braid-start-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs the three services with their settings and stops them all on Ctrl-C, the coordinator last', async () => {
    for (const app of ['coordinator', 'broker', 'dlq-admin']) execFileSync(process.execPath, ['tools/bundle-app.mjs', app], { cwd: workspaceRoot, stdio: 'pipe' });
    const coordinatorPort = await freePort();
    const brokerPort = await freePort();
    const dlqAdminPort = await freePort();
    const consolePort = await freePort();
    const child = spawn(process.execPath, ['tools/start.mjs'], {
      cwd: workspaceRoot,
      env: {
        ...process.env,
        BRAID_DATA_DIR: dir,
        BRAID_LOG_LEVEL: 'info',
        BRAID_COORDINATOR_PORT: String(coordinatorPort),
        BRAID_COORDINATOR: `127.0.0.1:${coordinatorPort}`,
        BRAID_BROKER_PORT: String(brokerPort),
        BRAID_DLQ_ADMIN_PORT: String(dlqAdminPort),
        BRAID_DLQ_ADMIN_HTTP_PORT: String(consolePort),
        BRAID_DLQ_ADMIN_BROKERS: `127.0.0.1:${brokerPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const exited = once(child, 'exit');
    try {
      await expect.poll(() => checkHealth(`127.0.0.1:${brokerPort}`).catch(() => 'DOWN'), { timeout: 60_000, interval: 250 }).toBe('SERVING');
      await expect.poll(() => checkHealth(`127.0.0.1:${dlqAdminPort}`).catch(() => 'DOWN'), { timeout: 30_000, interval: 250 }).toBe('SERVING');

      // The broker runs with its sized heap and two malloc arenas.
      const pid = Number(/\[broker\] \{[^\n]*?"pid":(\d+)/.exec(output)?.[1]);
      expect(pid, output).toBeGreaterThan(0);
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(commandLine).toEqual(expect.arrayContaining(['--max-old-space-size=384', '--heap-growing-percent=200']));
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    expect(output).toContain('[start] all stopped');
    const stoppedAt = (app: string): number => output.search(new RegExp(`\\[${app}\\] \\{[^\\n]*"msg":"stopped"`));
    expect(stoppedAt('broker'), output).toBeGreaterThan(0);
    expect(stoppedAt('coordinator')).toBeGreaterThan(stoppedAt('broker'));
    expect(output).not.toContain('deregistration failed');
  }, 180_000);
});
