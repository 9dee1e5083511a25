import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminServiceService, CoordinatorServiceService } from '@braid/proto';
import { callEveryRpc, startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let coordinator: AppProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-coordinator-'));
  coordinator = await startApp('coordinator', { args: ['--data-dir', dataDir] });
});

afterAll(async () => {
  await coordinator.kill9();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('coordinator process (walking skeleton)', () => {
  it.each([
    ['CoordinatorService', CoordinatorServiceService],
    ['AdminService', AdminServiceService],
  ])('answers every %s RPC with UNIMPLEMENTED naming it, and keeps serving', async (_name, definition) => {
    const outcomes = await callEveryRpc(coordinator.address, definition);
    expect(outcomes.length).toBeGreaterThan(0);
    for (const { path, error } of outcomes) {
      expect(error?.code, path).toBe(Status.UNIMPLEMENTED);
      expect(error?.message).toContain(path);
    }
    expect(coordinator.alive).toBe(true);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const other = await startApp('coordinator', { args: ['--data-dir', dataDir] });
    const exit = await other.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(other.logs).toContain('"msg":"stopped"');
  });

  it('refuses a bad flag value with exit code 2 naming the flag and variable', async () => {
    const bad = await startApp('coordinator', { args: ['--port', 'seventy'], noWait: true });
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.logs).toContain('--port / BRAID_COORDINATOR_PORT');
  });

});
