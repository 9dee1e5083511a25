// The dlq-admin bundle (tools/bundle-app.mjs, what `nx build dlq-admin`
// runs) holds everything it serves: the web console's files are built into
// its console/ directory, and `node main.js` serves them from there without
// any flag. The console is browser code bundled with what it uses, so it
// adds no runtime dependency to the bundle's package.json. (The bundle is
// built under dist/ so that main.js finds the workspace's node_modules;
// tools/deployable-bundle.test.ts covers installing a bundle on a bare host.)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppProcess, freePort, runProcess, waitUntilServing, workspaceRoot } from '@braid/testkit';

let dir: string;
let app: AppProcess | undefined;

beforeAll(() => {
  mkdirSync(join(workspaceRoot, 'dist'), { recursive: true });
  dir = mkdtempSync(join(workspaceRoot, 'dist', 'test-dlq-admin-bundle-'));
});

afterAll(async () => {
  await app?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('dlq-admin bundle with the web console', () => {
  it('builds console/ (index.html and the files it references) and adds no browser package to the dependencies', async () => {
    const built = await runProcess(process.execPath, [join(workspaceRoot, 'tools/bundle-app.mjs'), 'dlq-admin', '--outdir', join(dir, 'bundle')], {
      cwd: workspaceRoot,
      timeoutMs: 60_000,
    });
    expect(built.code, built.stdout + built.stderr).toBe(0);
    const consoleDir = join(dir, 'bundle', 'console');
    const html = readFileSync(join(consoleDir, 'index.html'), 'utf8');
    const referenced = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '').filter((ref) => !ref.startsWith('data:') && !ref.startsWith('api/'));
    expect(referenced.sort()).toEqual(['console.css', 'console.js']);
    for (const file of referenced) expect(existsSync(join(consoleDir, file)), file).toBe(true);
    // Nothing is loaded from another origin.
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);

    const manifest = JSON.parse(readFileSync(join(dir, 'bundle', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const names = Object.keys(manifest.dependencies);
    expect(names).toContain('fastify');
    for (const browserOnly of ['preact', 'diff', 'playwright-core', 'esbuild']) expect(names).not.toContain(browserOnly);
  }, 90_000);

  it('serves the console from its own directory when started with node main.js', async () => {
    const port = await freePort();
    const httpPort = await freePort();
    const child = spawn(
      process.execPath,
      ['main.js', '--port', String(port), '--http-port', String(httpPort), '--broker', '127.0.0.1:1', '--data-dir', join(dir, 'data')],
      { cwd: join(dir, 'bundle'), env: { ...process.env, BRAID_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    app = new AppProcess('dlq-admin', child, port);
    await waitUntilServing(app, 30_000);
    const base = `http://127.0.0.1:${httpPort}/`;
    // Health answers SERVING before the log line may have come through the pipe.
    await expect.poll(() => app?.logs, { timeout: 10_000 }).toContain(`web console at ${base}`);

    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<div id="app">');
    const script = await fetch(new URL('console.js', base));
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect((await script.text()).length).toBeGreaterThan(10_000);
    expect((await fetch(new URL('console.css', base))).headers.get('content-type')).toContain('text/css');

    const exit = await app.stop('SIGTERM');
    expect(exit, app.logs).toEqual({ code: 0, signal: null });
  }, 60_000);
});
