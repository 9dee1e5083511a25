import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, runCli, startApp } from './index.js';

describe('freePort', () => {
  it('returns a port that can be bound on loopback', async () => {
    const port = await freePort();
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
    expect(port).toBeGreaterThan(0);
  });
});

describe('startApp', () => {
  it('fails with the app output when the app exits before serving', async () => {
    await expect(startApp('broker', { args: ['--log-level', 'loud'] })).rejects.toThrow(/exited before serving[\s\S]*--log-level/);
  });

  it('starts an app, reports its pid and stops it by signal', async () => {
    const app = await startApp('coordinator');
    expect(app.pid).toBeGreaterThan(0);
    expect(app.alive).toBe(true);
    const exit = await app.stop();
    expect(exit.code).toBe(0);
    expect(app.alive).toBe(false);
  });
});

describe('runCli', () => {
  it('returns exit code and output', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: braid');
  });
});
