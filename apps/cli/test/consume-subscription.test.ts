// In-process tests of `braid consume` and `braid subscription` against the
// SDK's fake broker (`@braid/client/testing`): output, acknowledgements and
// exit codes. The same commands against real broker and coordinator
// processes are in consume.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StartPosition, SubscriptionMode } from '@braid/client';
import { FakeBroker } from '@braid/client/testing';
import { freePort } from '@braid/testkit';
import { runInProcess } from './memory-io.js';

let broker: FakeBroker;

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(() => {
  broker.stop();
});

const run = (args: string[], interrupt?: AbortSignal) => runInProcess(['--broker', broker.address, ...args], { interrupt });

const committed = (topic: string, sub: string) => broker.subscriptions.describe(topic, sub).partitions.map((p) => p.committedOffset);

describe('braid consume', () => {
  it('prints "partition offset key value" per record, acknowledges it and stops after --max', async () => {
    broker.createTopic('events');
    broker.publish('events', [{ key: 'user-1', value: 'created' }, { value: 'no key' }, { key: 'user-1', value: 'two\nlines' }, { value: 'left' }]);
    const result = await run(['consume', 'events', '--subscription', 'audit', '--from', 'earliest', '--max', '3']);
    expect(result).toEqual({ code: 0, stdout: '0 0 user-1 created\n0 1 - no key\n0 2 user-1 two\\nlines\n', stderr: '' });
    expect(committed('events', 'audit')).toEqual([3]);
    // The next run of the same subscription continues after what was acknowledged.
    expect((await run(['consume', 'events', '-s', 'audit', '-n', '1'])).stdout).toBe('0 3 - left\n');
  });

  it('prints one JSON object per record with --json', async () => {
    broker.createTopic('events', { partitions: 2 });
    broker.publish('events', [{ key: 'k', value: 'v', headers: { source: 'test' }, partition: 1 }]);
    const result = await run(['consume', 'events', '--subscription', 'audit', '--from', 'earliest', '--max', '1', '--json']);
    expect(result.code).toBe(0);
    const { publishTime, ...line } = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(line).toEqual({ partition: 1, offset: 0, key: 'k', value: 'v', headers: { source: 'test' }, attempt: 1 });
    expect(Number.isNaN(Date.parse(String(publishTime)))).toBe(false);
    expect(committed('events', 'audit')).toEqual([0, 1]);
  });

  it('creates the subscription with --mode and --from, and then takes only new records by default', async () => {
    broker.createTopic('events');
    broker.publish('events', [{ value: 'old' }]);
    const consuming = run(['consume', 'events', '--subscription', 'fresh', '--mode', 'key_shared', '-n', '1']);
    const subscribed = () => broker.subscriptions.members('events', 'fresh').length === 1;
    for (let i = 0; i < 500 && !(broker.subscriptions.of('events').length === 1 && subscribed()); i++) await new Promise((r) => setTimeout(r, 10));
    broker.publish('events', [{ value: 'new' }]);
    expect((await consuming).stdout).toBe('0 1 - new\n');
    expect(broker.subscriptions.of('events')[0]?.config?.mode).toBe(SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED);
  });

  it('stops gracefully when interrupted, acknowledging what it printed', async () => {
    broker.createTopic('events');
    broker.publish('events', [{ value: 'a' }, { value: 'b' }]);
    const interrupt = new AbortController();
    const consuming = run(['consume', 'events', '--subscription', 'audit', '--from', 'earliest'], interrupt.signal);
    for (let i = 0; i < 500 && broker.subscriptions.deliveries.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50));
    interrupt.abort();
    expect(await consuming).toEqual({ code: 0, stdout: '0 0 - a\n0 1 - b\n', stderr: '' });
    expect(committed('events', 'audit')).toEqual([2]);
  });

  it('fails with NOT_FOUND for an unknown topic', async () => {
    const result = await run(['consume', 'nope', '--subscription', 's']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'NOT_FOUND: topic "nope" does not exist\n' });
  });

  it('gives up with UNAVAILABLE when no broker answers within --timeout', async () => {
    const port = await freePort();
    const result = await runInProcess(['--broker', `127.0.0.1:${port}`, 'consume', 'events', '-s', 's', '--timeout', '500']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED): /);
  });

  it.each([
    [['consume', 'events'], /required option '-s, --subscription <name>'/],
    [['consume', 'events', '-s', 's', '--mode', 'exclusive'], /--mode.*PARTITIONED, KEY_SHARED or SHARED/],
    [['consume', 'events', '-s', 's', '--from', 'yesterday'], /--from.*earliest/],
    [['consume', 'events', '-s', 's', '--max', '0'], /--max/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('braid subscription', () => {
  it('creates and lists subscriptions', async () => {
    broker.createTopic('orders');
    broker.createTopic('users');
    expect(await run(['subscription', 'create', 'orders', 'billing', '--mode', 'KEY_SHARED', '--from', 'earliest', '--ack-timeout-ms', '5000', '--max-attempts', '3'])).toEqual({
      code: 0,
      stdout: 'created subscription billing on orders (mode key_shared, from earliest)\n',
      stderr: '',
    });
    await run(['subscription', 'create', 'users', 'search']);
    expect((await run(['subscription', 'list'])).stdout).toBe(
      'TOPIC   NAME     MODE         START     ACK_TIMEOUT_MS  MAX_ATTEMPTS  DEAD_LETTER_TOPIC\n' +
        'orders  billing  key_shared   earliest  5000            3             orders.billing.dlq\n' +
        'users   search   partitioned  latest    30000           5             users.search.dlq\n',
    );
    expect((await run(['subscription', 'list', '--topic', 'users'])).stdout).toMatch(/^TOPIC.*\nusers +search .*\n$/);
  });

  it('describes settings, per-partition progress and members', async () => {
    broker.createTopic('orders', { partitions: 2 });
    broker.createSubscription('orders', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST });
    broker.publish('orders', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }]);
    await run(['consume', 'orders', '-s', 'billing', '-n', '1']);
    const result = await run(['subscription', 'describe', 'orders', 'billing']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Topic: +orders\nSubscription: +billing\n/);
    expect(result.stdout).toContain('Mode:                    partitioned\n');
    expect(result.stdout).toContain('Dead-letter topic:       orders.billing.dlq\n');
    expect(result.stdout).toContain('PARTITION  COMMITTED  HIGH_WATERMARK  LAG  UNACKED  PENDING_RETRIES\n');
    const rows = [...result.stdout.matchAll(/^([01]) +(\d+) +(\d+) +(\d+) +\d+ +\d+$/gm)].map((m) => m.slice(1, 5).map(Number));
    expect(rows).toHaveLength(2);
    expect(rows.reduce((sum, [, committedOffset]) => sum + (committedOffset ?? 0), 0)).toBe(1);
    expect(rows.reduce((sum, [, , hw]) => sum + (hw ?? 0), 0)).toBe(3);
    expect(rows.reduce((sum, [, , , lag]) => sum + (lag ?? 0), 0)).toBe(2);
    expect(result.stdout).toContain('No members connected.\n');
  });

  it('seeks to offsets, a time, the start or the end', async () => {
    broker.createTopic('orders', { partitions: 2 });
    broker.createSubscription('orders', 'billing');
    broker.publish('orders', [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }]);
    expect((await run(['subscription', 'seek', 'orders', 'billing', '--earliest'])).stdout).toBe('partition=0 offset=0\npartition=1 offset=0\n');
    expect((await run(['subscription', 'seek', 'orders', 'billing', '--latest'])).stdout).toBe('partition=0 offset=2\npartition=1 offset=1\n');
    expect((await run(['subscription', 'seek', 'orders', 'billing', '--offset', '0:1'])).stdout).toBe('partition=0 offset=1\n');
    expect(committed('orders', 'billing')).toEqual([1, 1]);
    expect((await run(['subscription', 'seek', 'orders', 'billing', '--timestamp', '1970-01-01T00:00:00Z'])).stdout).toBe(
      'partition=0 offset=0\npartition=1 offset=0\n',
    );
    expect((await run(['consume', 'orders', '-s', 'billing', '-n', '3'])).stdout.split('\n').filter(Boolean).sort()).toEqual(['0 0 - a', '0 1 - b', '1 0 - c']);
  });

  it('needs exactly one seek target', async () => {
    for (const args of [[], ['--earliest', '--latest'], ['--offset', '0:1', '--timestamp', '5']]) {
      const result = await run(['subscription', 'seek', 'orders', 'billing', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/exactly one of --offset/);
    }
  });

  it('deletes a subscription; describing it afterwards fails with NOT_FOUND', async () => {
    broker.createTopic('orders');
    broker.createSubscription('orders', 'billing');
    expect(await run(['subscription', 'delete', 'orders', 'billing'])).toMatchObject({ code: 0, stdout: 'deleted subscription billing on orders\n' });
    expect(await run(['subscription', 'describe', 'orders', 'billing'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'NOT_FOUND: subscription "billing" on topic "orders" does not exist\n',
    });
  });

  it('prints the status of a refused call and exits 1', async () => {
    broker.createTopic('orders');
    broker.createSubscription('orders', 'billing');
    const again = await run(['subscription', 'create', 'orders', 'billing']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^ALREADY_EXISTS: /);
    expect(await run(['subscription', 'create', 'nope', 'billing'])).toMatchObject({ code: 1, stderr: 'NOT_FOUND: topic "nope" does not exist\n' });
  });
});
