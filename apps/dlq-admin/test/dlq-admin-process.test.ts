import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DlqAdminServiceService } from '@braid/proto';
import { callEveryRpc, startApp } from '@braid/testkit';
import type { AppProcess } from '@braid/testkit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dlqAdmin: AppProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'braid-dlq-admin-'));
  dlqAdmin = await startApp('dlq-admin', { args: ['--data-dir', dataDir] });
});

afterAll(async () => {
  await dlqAdmin.kill9();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dlq-admin process (walking skeleton)', () => {
  it.each([
    ['DlqAdminService', DlqAdminServiceService],
  ])('answers every %s RPC with UNIMPLEMENTED naming it, and keeps serving', async (_name, definition) => {
    const outcomes = await callEveryRpc(dlqAdmin.address, definition);
    expect(outcomes.length).toBeGreaterThan(0);
    for (const { path, error } of outcomes) {
      expect(error?.code, path).toBe(Status.UNIMPLEMENTED);
      expect(error?.message).toContain(path);
    }
    expect(dlqAdmin.alive).toBe(true);
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const other = await startApp('dlq-admin', { args: ['--data-dir', dataDir] });
    const exit = await other.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(other.logs).toContain('"msg":"stopped"');
  });

  it('refuses a bad flag value with exit code 2 naming the flag and variable', async () => {
    const bad = await startApp('dlq-admin', { args: ['--port', 'seventy'], noWait: true });
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.logs).toContain('--port / BRAID_DLQ_ADMIN_PORT');
  });

});
