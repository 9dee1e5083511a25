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
  // No broker listens on port 1: dlq-admin serves what it has and keeps polling.
  dlqAdmin = await startApp('dlq-admin', { args: ['--data-dir', dataDir, '--broker', '127.0.0.1:1'] });
});

afterAll(async () => {
  await dlqAdmin.kill9();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(`${dataDir}-2`, { recursive: true, force: true });
});

describe('dlq-admin process', () => {
  it('answers every DlqAdminService RPC with an empty request precisely, with no broker reachable, and keeps serving', async () => {
    const outcomes = await callEveryRpc(dlqAdmin.address, DlqAdminServiceService);
    const codes = new Map(outcomes.map(({ path, error }) => [path.split('/').pop() ?? path, error?.code ?? Status.OK]));
    // Reads of an empty request answer; reads and writes of a queue need its topic and subscription.
    expect(Object.fromEntries(['ListDeadLetterQueues', 'ListDeadLetters', 'GetDeadLetter', 'Redrive', 'Purge', 'ListAuditEntries'].map((rpc) => [rpc, codes.get(rpc)]))).toEqual({
      ListDeadLetterQueues: Status.OK,
      ListDeadLetters: Status.INVALID_ARGUMENT,
      GetDeadLetter: Status.INVALID_ARGUMENT,
      Redrive: Status.INVALID_ARGUMENT,
      Purge: Status.INVALID_ARGUMENT,
      ListAuditEntries: Status.OK,
    });
    // Nothing, including RPCs added later, leaks as UNKNOWN or INTERNAL.
    for (const [rpc, code] of codes) expect([Status.UNKNOWN, Status.INTERNAL], rpc).not.toContain(code);
    expect(dlqAdmin.alive).toBe(true);
  });

  it('refuses a bad broker list with exit code 2 naming the flag and variable', async () => {
    const bad = await startApp('dlq-admin', { args: ['--broker', 'nohostport'], noWait: true });
    const exit = await bad.exited;
    expect(exit.code).toBe(2);
    expect(bad.logs).toContain('--broker / BRAID_DLQ_ADMIN_BROKERS');
  });

  it('stops gracefully on SIGTERM with exit code 0', async () => {
    const other = await startApp('dlq-admin', { args: ['--data-dir', `${dataDir}-2`, '--broker', '127.0.0.1:1'] });
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
