// The Consumer settling for the application, against the SDK's FakeBroker:
// run()'s handler mode (return: ack, PoisonMessageError: reject, other
// throws: nack), the `parse` option, key order across retries with
// RETRY_ORDER_BLOCK_KEY (records held behind a failed record of their key
// are handed back, not processed), and the local `rateLimit`. The broker's
// retry timers run on a FakeClock where their timing matters.
import { status as Status } from '@grpc/grpc-js';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { InvalidArgumentError } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import type { SubscribeRequest } from '@braid/proto';
import type { SubscriptionSettings } from './admin.js';
import { Consumer } from './consumer.js';
import type { ConsumerOptions, MessageHandler } from './consumer.js';
import type { Message } from './message.js';
import { PoisonMessageError } from './poison-message-error.js';
import { FakeBroker } from './testing.js';
import type { FakeBrokerOptions } from './testing.js';

let broker: FakeBroker;
let brokerClock: FakeClock;
let consumers: Consumer<unknown>[] = [];

afterEach(async () => {
  await Promise.all(consumers.map((c) => c.close({ timeoutMs: 100 })));
  consumers = [];
  broker.stop();
});

/** A fake broker whose retry timers and leases run on `brokerClock`, with topic `t` and subscription `s` from the start. */
async function startBroker(settings: SubscriptionSettings = {}, options: FakeBrokerOptions = {}, partitions = 1): Promise<void> {
  brokerClock = new FakeClock(Date.now());
  broker = await FakeBroker.start({ clock: brokerClock, ...options });
  broker.createTopic('t', { partitions });
  broker.createSubscription('t', 's', { startPosition: StartPosition.START_POSITION_EARLIEST, ...settings });
}

function base(): ConsumerOptions {
  return { brokers: broker.address, topic: 't', subscription: 's' };
}

function consumer(options: Partial<ConsumerOptions> = {}): Consumer {
  const c = new Consumer({ ...base(), ...options });
  consumers.push(c);
  return c;
}

/** Moves the broker's clock so that retries come due, and lets it deliver them. */
async function advanceBroker(ms: number): Promise<void> {
  await brokerClock.advance(ms);
  broker.subscriptions.expireLeases();
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kind = NonNullable<SubscribeRequest['kind']>;
type KindValues = { [C in Kind['$case']]: Extract<Kind, { $case: C }>['value'] };

/** The values of the Subscribe requests of one kind the fake received; `nack` includes those sent in `nacks` batches. */
function requests<K extends keyof KindValues>(kind: K): KindValues[K][] {
  return broker.subscriptions.requests.flatMap((r) => {
    const k = r.request.kind;
    if (kind === 'nack' && k?.$case === 'nacks') return k.value.nacks as KindValues[K][];
    return k?.$case === kind ? [k.value as KindValues[K]] : [];
  });
}

/** Offsets handed back unprocessed (nacks with `release`). */
const released = (): number[] => requests('nack').filter((n) => n.release).map((n) => n.offset);
/** Failure nacks, as `offset:reason:errorClass`. */
const failures = (): string[] => requests('nack').filter((n) => !n.release).map((n) => `${n.offset}:${n.reason}:${n.errorClass}`);

function committed(partition = 0): number {
  return broker.subscriptions.describe('t', 's').partitions[partition]?.committedOffset ?? -1;
}

/** `value#attempt` of a message. */
const seen = (m: Message<unknown>): string => `${m.value.toString()}#${m.attempt}`;

/** A retry policy whose backoff is one exact second of the broker's clock. */
const oneSecondRetries = { initialBackoffMs: 1_000, maxBackoffMs: 1_000, jitter: Jitter.JITTER_NONE };

class InvalidOrderError extends PoisonMessageError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidOrderError';
  }
}

describe('Consumer.run settles for the handler', () => {
  it('acks on return and on a resolved promise, rejects on PoisonMessageError (also a subclass or another copy), nacks on any other throw, and leaves alone what the handler settled', async () => {
    await startBroker({ retryPolicy: oneSecondRetries });
    const behaviours: Record<string, (m: Message) => Promise<void> | void> = {
      'returns': () => undefined,
      'resolves': async () => { await sleep(1); },
      'poison': () => { throw new PoisonMessageError('order without a customer'); },
      'poison-subclass': () => { throw new InvalidOrderError('negative amount'); },
      // PoisonMessageError from another copy of @braid/client: only its name says what it is.
      'poison-foreign': () => { throw Object.assign(new Error('bad currency'), { name: 'PoisonMessageError' }); },
      'fails': () => { throw new TypeError('billing timed out'); },
      'fails-async': async () => { await sleep(1); throw new RangeError('quota'); },
      'throws-string': () => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a thrown non-Error is the case under test
        throw 'plain string';
      },
      'nacks-itself-then-returns': (m) => { m.nack({ delayMs: 5_000, reason: 'own reason' }); },
      'acks-then-throws': (m) => { m.ack(); throw new Error('after the ack'); },
      'rejects-then-throws': (m) => { m.reject('own poison'); throw new TypeError('after the reject'); },
    };
    const names = Object.keys(behaviours);
    broker.publish('t', names.map((value) => ({ value })));
    const handled: string[] = [];
    const c = consumer();
    const run = c.run(async (m) => {
      handled.push(seen(m));
      await behaviours[m.value.toString()]?.(m);
    }, { concurrency: 4 });
    await until(() => handled.length === names.length && requests('nack').length === 4 && requests('reject').length === 4, 'every record is settled once');
    // Counted in offsets: acks that travel together merge into ranges (offsets 0 and 1 are one).
    const acked = (): number[] => requests('ack').flatMap((a) => a.ranges.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, i) => r.first + i))).sort((a, b) => a - b);
    await until(() => acked().length >= 3, 'the acks are sent');

    const offset = (name: string): number => names.indexOf(name);
    expect(acked()).toEqual([offset('returns'), offset('resolves'), offset('acks-then-throws')]);
    expect(requests('reject').map((r) => [r.offset, r.reason, r.errorClass]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [offset('poison'), 'order without a customer', 'PoisonMessageError'],
      [offset('poison-subclass'), 'negative amount', 'InvalidOrderError'],
      [offset('poison-foreign'), 'bad currency', 'PoisonMessageError'],
      [offset('rejects-then-throws'), 'own poison', ''],
    ]);
    expect(requests('nack').map((n) => [n.offset, n.delayMs, n.reason, n.errorClass, n.release]).sort((a, b) => Number(a[0]) - Number(b[0]))).toEqual([
      [offset('fails'), undefined, 'billing timed out', 'TypeError', false],
      [offset('fails-async'), undefined, 'quota', 'RangeError', false],
      [offset('throws-string'), undefined, 'plain string', 'string', false],
      [offset('nacks-itself-then-returns'), 5_000, 'own reason', '', false],
    ].sort((a, b) => Number(a[0]) - Number(b[0])));
    // A nack without a delay gets the subscription's backoff: the record comes again one second later.
    await advanceBroker(1_000);
    await until(() => handled.includes('fails#2'), 'the failed record is retried');
    await c.close();
    await run;
  });

  it('rejects a record whose value does not parse without calling the handler; the others reach it parsed as message.data', async () => {
    await startBroker();
    broker.publish('t', [{ value: '{"id":1}' }, { value: 'not json' }, { value: '{"id":2}' }]);
    interface Order { id: number }
    const c = new Consumer({ ...base(), parse: (value) => JSON.parse(value.toString()) as Order });
    consumers.push(c);
    const ids: number[] = [];
    const run = c.run((m) => {
      ids.push(m.data.id);
    });
    await until(() => ids.length === 2 && requests('reject').length === 1 && committed() === 3, 'all three are settled');
    expect(ids).toEqual([1, 2]);
    expect(requests('reject')).toEqual([{ partition: 0, offset: 1, reason: expect.stringMatching(/^parse failed: .*JSON/) as unknown, errorClass: 'SyntaxError' }]);
    expect(broker.subscriptions.deadLetters.map((d) => d.offset)).toEqual([1]);
    expect(requests('nack')).toEqual([]);
    await c.close();
    await run;
  });

  it('parses for the for-await loop too: unparsable records are rejected and skipped; without parse, data is the value', async () => {
    await startBroker();
    broker.publish('t', [{ value: '7' }, { value: 'seven' }, { value: '8' }]);
    const c = new Consumer({
      ...base(),
      parse: (value, message) => {
        const n = Number(value.toString());
        if (Number.isNaN(n)) throw new PoisonMessageError(`offset ${message.offset}: not a number`);
        return n;
      },
    });
    consumers.push(c);
    const numbers: number[] = [];
    for await (const m of c) {
      numbers.push(m.data);
      m.ack();
      if (numbers.length === 2) break;
    }
    expect(numbers).toEqual([7, 8]);
    await until(() => requests('reject').length === 1, 'the reject arrives');
    expect(requests('reject')).toEqual([{ partition: 0, offset: 1, reason: 'parse failed: offset 1: not a number', errorClass: 'PoisonMessageError' }]);

    const raw = consumer({ subscription: 'raw', createIfMissing: true, settings: { startPosition: StartPosition.START_POSITION_EARLIEST } });
    for await (const m of raw) {
      expect(m.data).toBe(m.value);
      expect(m.data.toString()).toBe('7');
      break;
    }
  });

  it('types message.data from parse, and requires parse for a payload type other than Buffer', () => {
    const options = { brokers: 'localhost:1', topic: 't', subscription: 's' };
    const typed = new Consumer({ ...options, parse: (value) => ({ text: value.toString() }) });
    expectTypeOf(typed).toEqualTypeOf<Consumer<{ text: string }>>();
    expectTypeOf<Parameters<typeof typed.run>[0]>().toEqualTypeOf<MessageHandler<{ text: string }>>();
    expectTypeOf(new Consumer(options)).toEqualTypeOf<Consumer>();
    expectTypeOf<Parameters<Consumer['run']>[0]>().toEqualTypeOf<(message: Message) => Promise<void> | void>();
    // @ts-expect-error -- without parse, data is the value bytes: Consumer<{ text: string }> needs a parser
    const untyped: Consumer<{ text: string }> = new Consumer<{ text: string }>(options);
    expect(untyped).toBeInstanceOf(Consumer);
  });
});

describe('Consumer: key order across retries (RETRY_ORDER_BLOCK_KEY)', () => {
  /** Records of key `k` interleaved with 20 records of other keys, all in partition 0. */
  function publishMixed(kRecords: number): void {
    const records: { key: string; value: string; partition: number }[] = [];
    for (let i = 1; i <= 20; i++) {
      if (i <= kRecords) records.push({ key: 'k', value: `k${i}`, partition: 0 });
      records.push({ key: `other-${i}`, value: `o${i}`, partition: 0 });
    }
    broker.publish('t', records);
  }

  /**
   * Publishes 5 records of `k` among 20 of other keys and runs a consumer
   * (concurrency 8) whose handler fails k1's first attempt once everything
   * is delivered (so k2..k5 wait behind it). Returns the calls (`k1#1`, ...).
   */
  function failFirstK1(): { calls: string[]; kCalls: () => string[]; c: Consumer; run: Promise<void> } {
    publishMixed(5);
    const calls: string[] = [];
    const c = consumer();
    const run = c.run(async (m) => {
      calls.push(seen(m));
      if (m.value.toString() === 'k1' && m.attempt === 1) {
        // Fail only once k2..k5 wait in k's slot behind k1.
        await until(() => broker.subscriptions.deliveries.length >= 25, 'everything is delivered');
        throw new Error('create failed');
      }
    }, { concurrency: 8 });
    return { calls, kCalls: () => calls.filter((s) => s.startsWith('k')), c, run };
  }

  it('with concurrency 8, hands back the later records of a failed key instead of processing them, lets other keys proceed, and processes the key in order after the retry', async () => {
    await startBroker({ retryPolicy: oneSecondRetries });
    const total = 25;
    const { calls, kCalls, c, run } = failFirstK1();
    const others = (): number => calls.filter((s) => s.startsWith('o')).length;

    await until(() => others() === 20 && released().length === 4, 'other keys are done and k2..k5 handed back');
    expect(failures()).toEqual(['0:create failed:Error']);
    // k2..k5, each once; a record the loop had taken from the queue but not yet given to
    // its slot when k1 failed is handed back when its turn comes, after the others.
    expect([...released()].sort((a, b) => a - b)).toEqual([2, 4, 6, 8]);
    expect(kCalls()).toEqual(['k1#1']);

    // Other keys keep flowing while k waits; a new record of k waits at the broker.
    broker.publish('t', [{ key: 'k', value: 'k6', partition: 0 }, { key: 'late', value: 'o-late', partition: 0 }]);
    await until(() => calls.includes('o-late#1'), 'a record of another key published after the failure is processed');
    expect(kCalls()).toEqual(['k1#1']);

    // The retry comes; once it succeeds, k's records follow in order, none counted as a failed attempt.
    await advanceBroker(1_000);
    await until(() => kCalls().length === 7, 'every record of k is processed');
    expect(kCalls()).toEqual(['k1#1', 'k1#2', 'k2#1', 'k3#1', 'k4#1', 'k5#1', 'k6#1']);
    await until(() => committed() === total + 2, 'everything is committed');
    expect([...released()].sort((a, b) => a - b)).toEqual([2, 4, 6, 8]);
    await c.close();
    await run;
  });

  it('with a retry due soon, parks the later records of the failed key instead of handing them back, and processes them right behind the retry', async () => {
    await startBroker({ retryPolicy: { ...oneSecondRetries, initialBackoffMs: 50, maxBackoffMs: 50 } });
    const total = 25;
    const { calls, kCalls, c, run } = failFirstK1();
    await until(() => calls.filter((s) => s.startsWith('o')).length === 20 && failures().length === 1, 'other keys are done and k1 is nacked');
    expect(failures()).toEqual(['0:create failed:Error']);
    expect(kCalls()).toEqual(['k1#1']);

    await advanceBroker(50);
    await until(() => kCalls().length === 6, 'every record of k is processed');
    expect(kCalls()).toEqual(['k1#1', 'k1#2', 'k2#1', 'k3#1', 'k4#1', 'k5#1']);
    await until(() => committed() === total, 'everything is committed');
    // Nothing went back to the broker, and nothing was delivered twice but the retry.
    expect(released()).toEqual([]);
    expect(broker.subscriptions.deliveries.length).toBe(total + 1);
    await c.close();
    await run;
  });

  it('hands back what it parked when the retry is late (it went elsewhere), and still processes the key in order', async () => {
    await startBroker({ retryPolicy: { ...oneSecondRetries, initialBackoffMs: 50, maxBackoffMs: 50 } });
    const total = 25;
    const { kCalls, c, run } = failFirstK1();
    // The broker's clock stands still: the retry (due in 50 ms) does not come within 100 ms + the grace.
    await until(() => released().length === 4, 'the parked records are handed back', 5_000);
    expect(released()).toEqual([2, 4, 6, 8]);
    expect(kCalls()).toEqual(['k1#1']);

    await advanceBroker(50);
    await until(() => kCalls().length === 6, 'every record of k is processed');
    expect(kCalls()).toEqual(['k1#1', 'k1#2', 'k2#1', 'k3#1', 'k4#1', 'k5#1']);
    await until(() => committed() === total, 'everything is committed');
    await c.close();
    await run;
  });

  it('hands back, once, a record of the failed key that a broker not holding keys back sends after the failure; it is processed when it comes again', async () => {
    await startBroker({ retryPolicy: oneSecondRetries }, { blockKeys: false });
    broker.publish('t', [{ key: 'k', value: 'k1' }]);
    const calls: string[] = [];
    const c = consumer();
    const run = c.run((m) => {
      calls.push(seen(m));
      if (m.value.toString() === 'k1' && m.attempt === 1) throw new Error('create failed');
    }, { concurrency: 8 });
    await until(() => failures().length === 1, 'k1 is nacked');
    const offset = broker.publish('t', [{ key: 'k', value: 'k2' }])[0]?.offset ?? -1;
    await until(() => calls.includes('k2#1'), 'k2 is processed after it came again');
    // Released exactly once (no loop), and processed without an attempt counted.
    expect(released()).toEqual([offset]);
    expect(broker.subscriptions.deliveries.filter((d) => d.offset === offset).map((d) => d.attempt)).toEqual([1, 1]);
    await c.close();
    await run;
  });

  it('does not hand back anything when the failed record was on its last attempt (it is dead-lettered, its key flows)', async () => {
    await startBroker({ retryPolicy: { ...oneSecondRetries, maxAttempts: 1 } });
    broker.publish('t', [{ key: 'k', value: 'k1' }, { key: 'k', value: 'k2' }, { key: 'k', value: 'k3' }]);
    const calls: string[] = [];
    const c = consumer();
    const run = c.run(async (m) => {
      calls.push(seen(m));
      if (m.value.toString() === 'k1') {
        await until(() => broker.subscriptions.deliveries.length >= 3, 'everything is delivered');
        throw new Error('create failed');
      }
    }, { concurrency: 8 });
    await until(() => calls.length === 3 && committed() === 3, 'all three are settled');
    expect(calls).toEqual(['k1#1', 'k2#1', 'k3#1']);
    expect(released()).toEqual([]);
    expect(broker.subscriptions.deadLetters.map((d) => [d.offset, d.reason])).toEqual([[0, 'create failed']]);
    await c.close();
    await run;
  });

  it('with RETRY_ORDER_SKIP processes the later records of a failed key without waiting for its retry', async () => {
    await startBroker({ retryPolicy: { ...oneSecondRetries, retryOrder: RetryOrder.RETRY_ORDER_SKIP } });
    publishMixed(5);
    const calls: string[] = [];
    const c = consumer();
    const run = c.run(async (m) => {
      calls.push(seen(m));
      if (m.value.toString() === 'k1' && m.attempt === 1) {
        await until(() => broker.subscriptions.deliveries.length >= 25, 'everything is delivered');
        throw new Error('create failed');
      }
    }, { concurrency: 8 });
    await until(() => calls.length === 25, 'every record is processed once');
    expect(calls.filter((s) => s.startsWith('k'))).toEqual(['k1#1', 'k2#1', 'k3#1', 'k4#1', 'k5#1']);
    expect(released()).toEqual([]);
    // The broker's clock moves only once it has the nack: its retry is due a second after it arrives.
    await until(() => requests('nack').length === 1, 'k1 is nacked');
    await advanceBroker(1_000);
    await until(() => calls.includes('k1#2'), 'k1 is retried');
    await c.close();
    await run;
  });

  it('a SHARED subscription skips by default: nothing is handed back', async () => {
    await startBroker({ mode: SubscriptionMode.SUBSCRIPTION_MODE_SHARED, retryPolicy: oneSecondRetries });
    broker.publish('t', [{ key: 'k', value: 'k1' }, { key: 'k', value: 'k2' }]);
    const calls: string[] = [];
    const c = consumer();
    const run = c.run(async (m) => {
      calls.push(seen(m));
      if (m.value.toString() === 'k1' && m.attempt === 1) {
        await until(() => broker.subscriptions.deliveries.length >= 2, 'both are delivered');
        throw new Error('create failed');
      }
    });
    await until(() => calls.length === 2, 'both are processed');
    expect(calls).toEqual(['k1#1', 'k2#1']);
    expect(released()).toEqual([]);
    await c.close();
    await run;
  });

  it('for await: after the application nacks, queued records of that key are handed back, and come again after the retry', async () => {
    await startBroker({ retryPolicy: oneSecondRetries });
    broker.publish('t', [{ key: 'k', value: 'k1' }, { key: 'k', value: 'k2' }, { key: 'j', value: 'j1' }, { key: 'k', value: 'k3' }]);
    const c = consumer();
    const order: string[] = [];
    for await (const m of c) {
      order.push(seen(m));
      if (seen(m) === 'k1#1') {
        await until(() => broker.subscriptions.deliveries.length >= 4, 'everything is queued');
        m.nack({ reason: 'create failed' });
        await until(() => released().length === 2, 'k2 and k3 are handed back');
        expect(released()).toEqual([1, 3]);
      } else {
        m.ack();
      }
      if (seen(m) === 'j1#1') void advanceBroker(1_000);
      if (order.length === 5) break;
    }
    expect(order).toEqual(['k1#1', 'j1#1', 'k1#2', 'k2#1', 'k3#1']);
  });
});

describe('Consumer rateLimit', () => {
  it('starts at most burst handlers at once and then recordsPerSecond, by the injected clock', async () => {
    await startBroker();
    broker.publish('t', Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })));
    const clock = new FakeClock();
    const starts: number[] = [];
    const c = consumer({ clock, rateLimit: { recordsPerSecond: 10, burst: 3 } });
    const run = c.run(() => {
      starts.push(clock.now());
    }, { concurrency: 4 });
    await until(() => starts.length === 3, 'the burst starts');
    await sleep(50);
    expect(starts).toHaveLength(3);
    await clock.advance(100);
    await until(() => starts.length === 4, 'one more after 100 ms');
    await clock.advance(1_000);
    await until(() => starts.length === 14, 'ten more after another second');
    await sleep(50);
    expect(starts).toHaveLength(14);
    await clock.advance(600);
    await until(() => starts.length === 20, 'the rest');
    // Never more than burst + rate * elapsed from the first start.
    const first = starts[0] ?? 0;
    starts.forEach((at, i) => { expect(i + 1).toBeLessThanOrEqual(3 + Math.floor(((at - first) * 10) / 1_000)); });
    await c.close();
    await run;
  });

  it('paces the for-await loop the same way', async () => {
    await startBroker();
    broker.publish('t', [{ value: 'a' }, { value: 'b' }]);
    const clock = new FakeClock();
    const c = consumer({ clock, rateLimit: { recordsPerSecond: 0.5 } });
    const iterator = c[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (first.done === true) throw new Error('the loop ended');
    expect(first.value.value.toString()).toBe('a');
    first.value.ack();
    let second: Message | undefined;
    void iterator.next().then((result) => {
      if (result.done !== true) second = result.value;
    });
    await sleep(50);
    expect(second).toBeUndefined();
    await clock.advance(1_999);
    await sleep(20);
    expect(second).toBeUndefined();
    await clock.advance(1);
    await until(() => second !== undefined, 'the second message after 2 s');
    expect(second?.value.toString()).toBe('b');
    second?.ack();
  });

  it('rejects bad rateLimit and parse options with INVALID_ARGUMENT', () => {
    const options = { brokers: 'localhost:1', topic: 't', subscription: 's' };
    const bad: [unknown, RegExp][] = [
      [{ recordsPerSecond: 0 }, /"rateLimit.recordsPerSecond" must be a finite number > 0, got 0/],
      [{ recordsPerSecond: -5 }, /"rateLimit.recordsPerSecond" must be a finite number > 0, got -5/],
      [{ recordsPerSecond: Number.NaN }, /"rateLimit.recordsPerSecond" .* got NaN/],
      [{ recordsPerSecond: Number.POSITIVE_INFINITY }, /"rateLimit.recordsPerSecond" .* got Infinity/],
      [{ recordsPerSecond: '10' }, /"rateLimit.recordsPerSecond" .* got 10/],
      [{ recordsPerSecond: 10, burst: 0 }, /"rateLimit.burst" must be a whole number >= 1, got 0/],
      [{ recordsPerSecond: 10, burst: 2.5 }, /"rateLimit.burst" must be a whole number >= 1, got 2.5/],
      [null, /"rateLimit" must be an object/],
    ];
    for (const [rateLimit, message] of bad) {
      const attempt = () => new Consumer({ ...options, rateLimit: rateLimit as ConsumerOptions['rateLimit'] });
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow(message);
      expect(attempt).toThrow(expect.objectContaining({ code: Status.INVALID_ARGUMENT }) as Error);
    }
    expect(() => new Consumer({ ...options, parse: 'json' as unknown as ConsumerOptions['parse'] })).toThrow(/"parse" must be a function, got string/);
    expect(() => new Consumer({ ...options, rateLimit: { recordsPerSecond: 0.5 } })).not.toThrow();
  });
});
