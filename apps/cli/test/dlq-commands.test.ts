// In-process tests of `braid dlq` against the SDK's fake broker
// (`@braid/client/testing`): how the dead-letter topic is found, empty and
// missing queues, records in it that are not dead letters, usage errors.
// Real dead letters written by a real broker are in dlq.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeBroker } from '@braid/client/testing';
import { runInProcess } from './memory-io.js';

let broker: FakeBroker;

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(() => {
  broker.stop();
});

const run = (args: string[]) => runInProcess(['--broker', broker.address, ...args]);

describe('braid dlq', () => {
  it('reports no dead letters, not an error, when the dead-letter topic is missing or empty', async () => {
    broker.createTopic('orders');
    // No such subscription: the default dead-letter topic name is looked at.
    expect(await run(['dlq', 'list', 'orders', '--subscription', 'gone'])).toEqual({
      code: 0,
      stdout: 'no dead letters for subscription gone on orders (dead-letter topic orders.gone.dlq does not exist yet)\n',
      stderr: '',
    });
    broker.createSubscription('orders', 'billing');
    broker.createTopic('orders.billing.dlq');
    expect(await run(['dlq', 'list', 'orders', '-s', 'billing'])).toEqual({
      code: 0,
      stdout: 'no dead letters for subscription billing on orders (dead-letter topic orders.billing.dlq is empty)\n',
      stderr: '',
    });
    expect(await run(['dlq', 'show', 'orders', '-s', 'billing', '--offset', '0'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'NOT_FOUND: no dead letter at offset 0 of orders.billing.dlq partition 0: it is empty\n',
    });
  });

  it("reads the subscription's configured dead-letter topic and marks records in it that are not dead letters", async () => {
    broker.createTopic('orders');
    broker.createSubscription('orders', 'billing', { deadLetterTopic: 'poison' });
    broker.createTopic('poison');
    broker.publish('poison', [{ value: 'published by hand' }]);
    const list = await run(['dlq', 'list', 'orders', '-s', 'billing']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/\n0 +0 +- +- +- +- +- +- +\(record poison\/0\/0 is not a dead letter: it has no braid-dlq-origin header\)\n$/);
    expect(await run(['dlq', 'show', 'orders', '-s', 'billing', '--offset', '0'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'INVALID_ARGUMENT: record poison/0/0 is not a dead letter: it has no braid-dlq-origin header\n',
    });
    expect(await run(['dlq', 'show', 'orders', '-s', 'billing', '--offset', '5'])).toMatchObject({
      code: 1,
      stderr: 'NOT_FOUND: no dead letter at offset 5 of poison partition 0: it holds offsets 0-0\n',
    });
  });

  it('refuses bad options with exit code 2', async () => {
    const noSubscription = await run(['dlq', 'list', 'orders']);
    expect(noSubscription.code).toBe(2);
    expect(noSubscription.stderr).toContain("required option '-s, --subscription <name>' not specified");
    const badLimit = await run(['dlq', 'list', 'orders', '-s', 'x', '--limit', '0']);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('must be a whole number >= 1');
    expect(await run(['dlq', 'show', 'orders', '-s', 'x', '--offset', '-1'])).toMatchObject({ code: 2 });
  });
});
