// In-process tests of `braid dlq` that need no dlq-admin: usage errors
// (exit 2, naming what is wrong, before any call) and an unreachable
// dlq-admin (exit 1 with a hint). The commands against a real dlq-admin are
// in dlq.test.ts.
import { describe, expect, it } from 'vitest';
import { freePort } from '@braid/testkit';
import { runInProcess } from './memory-io.js';

/** Runs against a dlq-admin address where nothing listens: any call would fail UNAVAILABLE, so exit 2 proves no call was made. */
async function run(args: string[]) {
  return runInProcess(['--dlq-admin', `127.0.0.1:${await freePort()}`, ...args]);
}

describe('braid dlq usage', () => {
  it('refuses a redrive without a selection, or with several kinds of one', async () => {
    expect(await run(['dlq', 'redrive', 'orders', '-s', 'billing'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: choose the records to redrive: --offset <partition:offset> (repeatable), --all, or filter options (see --help)\n',
    });
    expect(await run(['dlq', 'redrive', 'orders', '-s', 'billing', '--all', '--offset', '0:1'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: choose the records one way: --offset, --all, or filter options, not several\n',
    });
    expect((await run(['dlq', 'redrive', 'orders', '-s', 'billing', '--all', '--reason', 'x'])).code).toBe(2);
  });

  it('edits headers of exactly one record, and needs a readable --edit-value file', async () => {
    for (const selection of [['--all'], ['--offset', '0:1', '--offset', '0:2'], ['--reason', 'x']]) {
      expect(await run(['dlq', 'redrive', 'orders', '-s', 'billing', ...selection, '--edit-header', 'a=b'])).toEqual({
        code: 2,
        stdout: '',
        stderr: "error: --edit-header and --remove-header change one record's own headers: select exactly one record with --offset\n",
      });
    }
    const missing = await run(['dlq', 'redrive', 'orders', '-s', 'billing', '--offset', '0:1', '--edit-value', '/nonexistent/value.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: cannot read --edit-value \/nonexistent\/value\.json: ENOENT/);
  });

  it('purges only with a selection or --older-than, and only with --yes unless --dry-run', async () => {
    expect(await run(['dlq', 'purge', 'orders', '-s', 'billing'])).toMatchObject({ code: 2, stderr: expect.stringContaining('choose the records to purge') as unknown });
    expect(await run(['dlq', 'purge', 'orders', '-s', 'billing', '--older-than', '7d'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: purge deletes dead letters for good: add --yes (or see what would go with --dry-run)\n',
    });
    const badDuration = await run(['dlq', 'purge', 'orders', '-s', 'billing', '--older-than', '7 days', '--yes']);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toContain('must be a duration such as 500ms, 90s, 30m, 12h, 7d or 1h30m.');
  });

  it('checks option values before calling', async () => {
    expect((await run(['dlq', 'records', 'orders'])).stderr).toContain("required option '-s, --subscription <name>' not specified");
    expect((await run(['dlq', 'records', 'orders', '-s', 'b', '--page-size', '0'])).code).toBe(2);
    expect((await run(['dlq', 'records', 'orders', '-s', 'b', '--from', 'yesterday'])).code).toBe(2);
    expect((await run(['dlq', 'redrive', 'orders', '-s', 'b', '--all', '--rate', '0'])).stderr).toContain('must be a number > 0.');
    expect((await run(['dlq', 'redrive', 'orders', '-s', 'b', '--offset', '1'])).stderr).toContain('must be PARTITION:OFFSET');
    expect((await run(['dlq', 'show', 'orders', '-s', 'b', '--offset', '-1'])).code).toBe(2);
    expect(await run(['dlq', 'alerts', 'create', 'orders', '-s', 'b', '--depth-above', '5', '--arrivals-above', '5'])).toMatchObject({
      code: 2,
      stderr: 'error: choose exactly one condition: --depth-above <n>, --arrivals-above <n> or --oldest-above <duration>\n',
    });
    expect(await run(['dlq', 'alerts', 'create', 'orders', '-s', 'b', '--oldest-above', '10m', '--clear-at', '300'])).toMatchObject({
      code: 2,
      stderr: "error: option '--clear-at <value>' argument '300' is invalid. must be a duration such as 500ms, 90s, 30m, 12h, 7d or 1h30m.\n",
    });
  });

  it('says where it looked when dlq-admin is not reachable', async () => {
    const port = await freePort();
    const result = await runInProcess(['dlq', 'list'], { env: { BRAID_DLQ_ADMIN: `127.0.0.1:${port}` } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^UNAVAILABLE: .*\\nhint: is dlq-admin running at 127\\.0\\.0\\.1:${port}\\? \\(--dlq-admin <host:port> or BRAID_DLQ_ADMIN\\)\\n$`));
  });
});
