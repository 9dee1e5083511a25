// The Consumer against the SDK's FakeBroker (an in-process gRPC server that
// follows the Subscribe protocol): credit, batched acks, lease extension,
// key-ordered concurrency, graceful close and reconnects.
import { status as Status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLogger } from '@braid/core/testing';
import { Jitter, StartPosition } from '@braid/proto';
import type { OffsetRange, SubscribeRequest } from '@braid/proto';
import { Admin } from './admin.js';
import { Consumer } from './consumer.js';
import type { ConsumerOptions } from './consumer.js';
import type { Message } from './message.js';
import { FakeBroker } from './testing.js';

let broker: FakeBroker;
let consumers: Consumer[] = [];

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(async () => {
  await Promise.all(consumers.map((c) => c.close({ timeoutMs: 100 })));
  consumers = [];
  broker.stop();
});

function consumer(options: Partial<ConsumerOptions> = {}, on: FakeBroker = broker): Consumer {
  const c = new Consumer({
    brokers: on.address,
    topic: 't',
    subscription: 's',
    createIfMissing: true,
    settings: { startPosition: StartPosition.START_POSITION_EARLIEST },
    ...options,
  });
  consumers.push(c);
  return c;
}

/** The next `n` messages (leaving the loop keeps the consumer running). */
async function take(c: Consumer, n: number): Promise<Message[]> {
  const out: Message[] = [];
  if (n === 0) return out;
  for await (const message of c) {
    out.push(message);
    if (out.length >= n) break;
  }
  return out;
}

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A retry policy whose backoff does not slow tests on the real clock: 10 ms, no jitter. */
const quickRetries = { initialBackoffMs: 10, maxBackoffMs: 10, jitter: Jitter.JITTER_NONE };

type Kind = NonNullable<SubscribeRequest['kind']>;
type KindValues = { [C in Kind['$case']]: Extract<Kind, { $case: C }>['value'] };

/** The values of the Subscribe requests of one kind the fake received (on one stream, or all); `nack` includes those sent in `nacks` batches. */
function requests<K extends keyof KindValues>(kind: K, stream?: number): KindValues[K][] {
  return broker.subscriptions.requests
    .filter((r) => stream === undefined || r.stream === stream)
    .flatMap((r) => {
      const k = r.request.kind;
      if (kind === 'nack' && k?.$case === 'nacks') return k.value.nacks as KindValues[K][];
      return k?.$case === kind ? [k.value as KindValues[K]] : [];
    });
}

function committed(partition = 0, sub = 's'): number {
  return broker.subscriptions.describe('t', sub).partitions[partition]?.committedOffset ?? -1;
}

function offsetsIn(ranges: readonly OffsetRange[]): number[] {
  return ranges.flatMap((r) => Array.from({ length: r.last - r.first + 1 }, (_, i) => r.first + i));
}

describe('Consumer: iteration and settling', () => {
  it('yields records in order with key, value, headers, attempt, partition and offset; acks commit them', async () => {
    broker.createTopic('t');
    broker.publish('t', [
      { key: 'user-1', value: 'created', headers: { traceparent: '00-a-b-01' } },
      { value: 'no key' },
      { key: 'user-1', value: 'paid' },
    ]);
    const c = consumer();
    const messages = await take(c, 3);
    expect(messages.map((m) => [m.partition, m.offset, m.key?.toString(), m.value.toString(), m.attempt])).toEqual([
      [0, 0, 'user-1', 'created', 1],
      [0, 1, undefined, 'no key', 1],
      [0, 2, 'user-1', 'paid', 1],
    ]);
    expect(messages[0]?.headers).toEqual({ traceparent: '00-a-b-01' });
    expect(messages[0]?.topic).toBe('t');
    expect(messages[0]?.publishTime).toBeInstanceOf(Date);
    expect(messages[0]?.leaseDeadline.getTime()).toBeGreaterThan(Date.now());
    for (const m of messages) m.ack();
    await until(() => committed() === 3, 'the acks are committed');
    const [open] = requests('open');
    expect(open).toMatchObject({ topic: 't', subscription: 's', memberId: c.memberId, createIfMissing: true, initialCredit: { records: 1000, bytes: 64 * 1024 * 1024 } });
  });

  it('never holds more than the credit it granted: a member granting 10 holds at most 10 unsettled records', async () => {
    broker.createTopic('t', { partitions: 3 });
    broker.publish('t', Array.from({ length: 200 }, (_, i) => ({ value: `v${i}`, partition: i % 3 })));
    // Slow timer flushes: the acks must reach the broker before each credit top-up, not after.
    const c = consumer({ prefetchRecords: 10, ackFlushMs: 10_000, ackBatchSize: 1_000 });
    const held: Message[] = [];
    let received = 0;
    let ackAfter = 1;
    for await (const message of c) {
      received += 1;
      held.push(message);
      expect(held.length).toBeLessThanOrEqual(10);
      if (held.length >= ackAfter || received === 200) {
        // Settle in random order; the next batch size varies from 1 to 10.
        for (const m of held.splice(0).sort(() => Math.random() - 0.5)) m.ack();
        ackAfter = 1 + Math.floor(Math.random() * 10);
      }
      if (received === 200) break;
    }
    await until(() => [0, 1, 2].every((p) => committed(p) >= 66), 'every record is committed');
    expect(broker.subscriptions.maxHeld.get(c.memberId)).toBeLessThanOrEqual(10);
    expect(requests('open')[0]?.initialCredit?.records).toBe(10);
    const grants = requests('credit');
    expect(grants.every((g) => g.records >= 1 && g.records <= 10)).toBe(true);
    // Topped up in batches as records are settled, not once per record.
    expect(grants.length).toBeLessThan(200 / 2);
  });

  it('honours byte credit: with 100 bytes of prefetch no more than three 30-byte records are out at once', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 30 }, (_, i) => ({ key: 'k'.repeat(10), value: String(i).padStart(20, '0') })));
    const c = consumer({ prefetchBytes: 100 });
    let received = 0;
    for await (const message of c) {
      message.ack();
      if (++received === 30) break;
    }
    expect(broker.subscriptions.maxHeld.get(c.memberId)).toBeLessThanOrEqual(3);
    expect(requests('open')[0]?.initialCredit).toEqual({ records: 1000, bytes: 100 });
  });

  it('batches acks into ranges: a full batch at once, a partial one after ackFlushMs', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 110 }, (_, i) => ({ value: `v${i}` })));
    const c = consumer({ ackBatchSize: 50, ackFlushMs: 5 });
    const messages = await take(c, 110);
    for (const m of messages.slice(0, 100)) m.ack();
    await until(() => requests('ack').length === 2, 'two full batches arrive');
    expect(requests('ack').map((a) => a.ranges)).toEqual([
      [{ partition: 0, first: 0, last: 49 }],
      [{ partition: 0, first: 50, last: 99 }],
    ]);
    for (const m of messages.slice(100, 103)) m.ack();
    expect(requests('ack')).toHaveLength(2);
    await until(() => requests('ack').length === 3, 'the timer flushes the partial batch');
    expect(requests('ack')[2]?.ranges).toEqual([{ partition: 0, first: 100, last: 102 }]);
    for (const m of messages.slice(103)) m.ack();
    await until(() => committed() === 110, 'all are committed');
  });

  it('settling twice does nothing: the first settlement wins', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const c = consumer({ ackFlushMs: 0 });
    const [m] = await take(c, 1);
    m?.ack();
    m?.nack();
    m?.reject('late');
    m?.ack();
    expect(m?.disposition).toBe('ack');
    await until(() => committed() === 1, 'the ack is committed');
    await sleep(20);
    expect(requests('ack').flatMap((a) => offsetsIn(a.ranges))).toEqual([0]);
    expect(requests('nack')).toEqual([]);
    expect(requests('reject')).toEqual([]);
  });

  it('sends the nacks of one turn as one nacks request, in order, and a lone nack as nack', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 4 }, (_, i) => ({ value: `v${i}` })));
    const c = consumer();
    const messages = await take(c, 4);
    for (const m of messages.slice(0, 3)) m.nack({ reason: `r${m.offset}` });
    await until(() => broker.subscriptions.requests.some((r) => r.request.kind?.$case === 'nacks'), 'the batch arrives');
    const raw = () => broker.subscriptions.requests.map((r) => r.request.kind).filter((k) => k?.$case === 'nack' || k?.$case === 'nacks');
    expect(raw()).toHaveLength(1);
    expect(requests('nack').map((n) => [n.offset, n.reason])).toEqual([[0, 'r0'], [1, 'r1'], [2, 'r2']]);
    messages[3]?.nack({ reason: 'alone' });
    await until(() => raw().length === 2, 'the lone nack arrives');
    expect(raw()[1]).toMatchObject({ $case: 'nack', value: { offset: 3, reason: 'alone' } });
  });

  it('nack delivers the record again with the next attempt; reject dead-letters it', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'flaky' }, { value: 'poison' }]);
    const c = consumer();
    const [flaky, poison] = await take(c, 2);
    flaky?.nack({ delayMs: 10, reason: 'timeout calling billing', errorClass: 'TimeoutError' });
    poison?.reject('cannot parse', { errorClass: 'SyntaxError' });
    await until(() => broker.subscriptions.deadLetters.length === 1, 'the reject arrives');
    expect(requests('nack')).toEqual([{ partition: 0, offset: 0, delayMs: 10, reason: 'timeout calling billing', errorClass: 'TimeoutError', release: false }]);
    expect(broker.subscriptions.deadLetters).toEqual([
      { topic: 't', subscription: 's', partition: 0, offset: 1, attempt: 1, reason: 'cannot parse', errorClass: 'SyntaxError' },
    ]);
    const [again] = await take(c, 1);
    expect([again?.offset, again?.attempt, again?.value.toString()]).toEqual([0, 2, 'flaky']);
    again?.ack();
    await until(() => committed() === 2, 'both are settled');
  });

  it('rejects invalid nack delays and extensions', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const [m] = await take(consumer(), 1);
    expect(() => m?.nack({ delayMs: -1 })).toThrow(/delayMs/);
    expect(() => m?.extend(0)).toThrow(/extend/);
    expect(m?.disposition).toBeUndefined();
  });
});

describe('Consumer: leases', () => {
  it('extends the lease of a held record automatically, then lets it expire after maxLeaseExtensionMs', async () => {
    broker.createTopic('t');
    broker.createSubscription('t', 's', { startPosition: StartPosition.START_POSITION_EARLIEST, ackTimeoutMs: 300, retryPolicy: quickRetries });
    broker.publish('t', [{ value: 'slow' }]);
    const c = consumer({ maxLeaseExtensionMs: 900 });
    const [m] = await take(c, 1);
    // Held three times as long as the ack timeout: extended, not redelivered.
    await sleep(600);
    expect(requests('extend').length).toBeGreaterThanOrEqual(2);
    expect(requests('extend')[0]).toEqual({ ranges: [{ partition: 0, first: 0, last: 0 }], extendMs: 300 });
    expect(broker.subscriptions.deliveries).toHaveLength(1);
    // Past the budget the lease runs out and the record comes again.
    const [again] = await take(c, 1);
    expect([again?.offset, again?.attempt]).toEqual([0, 2]);
    expect(Date.now() - (m?.publishTime.getTime() ?? 0)).toBeGreaterThanOrEqual(900);
    // The expired copy is released locally: its ack does not reach the broker.
    m?.ack();
    await sleep(50);
    expect(requests('ack')).toEqual([]);
    again?.ack();
    await until(() => committed() === 1, 'the new copy is committed');
  });

  it('msg.extend(ms) asks for that lease at once', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const [m] = await take(consumer(), 1);
    m?.extend(120_000);
    await until(() => requests('extend').length === 1, 'the extension arrives');
    expect(requests('extend')).toEqual([{ ranges: [{ partition: 0, first: 0, last: 0 }], extendMs: 120_000 }]);
    expect(Math.abs((m?.leaseDeadline.getTime() ?? 0) - (Date.now() + 120_000))).toBeLessThan(1_000);
    m?.ack();
    m?.extend(5_000);
    await sleep(20);
    expect(requests('extend')).toHaveLength(1);
  });

  it('keeps going when the broker answers nack with UNIMPLEMENTED: the record returns when its lease expires', async () => {
    const old = await FakeBroker.start({ settleUnimplemented: true });
    try {
      old.createTopic('t');
      old.createSubscription('t', 's', { startPosition: StartPosition.START_POSITION_EARLIEST, ackTimeoutMs: 200, retryPolicy: quickRetries });
      old.publish('t', [{ value: 'a' }]);
      const logger = new MemoryLogger();
      const c = consumer({ logger, maxLeaseExtensionMs: 0 }, old);
      const [m] = await take(c, 1);
      m?.nack();
      const [again] = await take(c, 1);
      expect(again?.attempt).toBe(2);
      expect(logger.entries.some((e) => e.level === 'warn' && e.fields.code === 'UNIMPLEMENTED')).toBe(true);
      again?.ack();
      await c.close();
    } finally {
      old.stop();
    }
  });
});

describe('Consumer.run', () => {
  it('runs 16 handlers at once over 1,000 keys, each key one at a time and in order', async () => {
    broker.createTopic('t', { partitions: 4 });
    const perKey = 3;
    const keys = Array.from({ length: 1_000 }, (_, k) => `key-${k}`);
    for (let round = 0; round < perKey; round++) broker.publish('t', keys.map((key) => ({ key, value: String(round) })));
    const c = consumer();
    const seen = new Map<string, number[]>();
    const busy = new Set<string>();
    let active = 0;
    let peak = 0;
    let handled = 0;
    let overlapOfOneKey = false;
    const run = c.run(
      async (m) => {
        const key = m.key?.toString() ?? '';
        if (busy.has(key)) overlapOfOneKey = true;
        busy.add(key);
        active += 1;
        peak = Math.max(peak, active);
        await sleep(Math.random() < 0.1 ? 2 : 0);
        seen.set(key, [...(seen.get(key) ?? []), Number(m.value.toString())]);
        active -= 1;
        busy.delete(key);
        if (++handled === keys.length * perKey) void c.close();
      },
      { concurrency: 16 },
    );
    await run;
    await c.close();
    expect(overlapOfOneKey).toBe(false);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(16);
    expect(seen.size).toBe(1_000);
    for (const key of keys) expect(seen.get(key)).toEqual([0, 1, 2]);
    expect([0, 1, 2, 3].reduce((sum, p) => sum + committed(p), 0)).toBe(3_000);
  });

  it('acks when the handler returns and nacks when it throws; the record comes back with the next attempt', async () => {
    broker.createTopic('t');
    broker.createSubscription('t', 's', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy: quickRetries });
    broker.publish('t', [{ value: 'a' }, { value: 'b' }]);
    const c = consumer();
    const attempts: string[] = [];
    const run = c.run((m) => {
      attempts.push(`${m.value.toString()}#${m.attempt}`);
      if (m.value.toString() === 'b' && m.attempt === 1) throw new TypeError('bad b');
      if (attempts.length === 3) void c.close();
    });
    await run;
    await c.close();
    expect(attempts).toEqual(['a#1', 'b#1', 'b#2']);
    expect(requests('nack')).toEqual([{ partition: 0, offset: 1, delayMs: undefined, reason: 'bad b', errorClass: 'TypeError', release: false }]);
    expect(committed()).toBe(2);
  });

  it('refuses to iterate while run() consumes, and to run twice', async () => {
    broker.createTopic('t');
    const c = consumer();
    const run = c.run(() => undefined);
    await c.connect();
    await expect(c.run(() => undefined)).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(take(c, 1)).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await c.close();
    await run;
  });
});

describe('Consumer.close', () => {
  it('stops granting credit, waits for records in hand and flushes their acks', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 5 }, (_, i) => ({ value: `v${i}` })));
    const c = consumer({ ackBatchSize: 1_000, ackFlushMs: 60_000 });
    const messages = await take(c, 5);
    for (const m of messages.slice(0, 4)) m.ack();
    const closed = c.close({ timeoutMs: 5_000 });
    await sleep(30);
    expect(requests('ack')).toEqual([]);
    messages[4]?.ack();
    await closed;
    expect(requests('ack').map((a) => a.ranges)).toEqual([[{ partition: 0, first: 0, last: 4 }]]);
    expect(committed()).toBe(5);
    const creditsBefore = requests('credit').length;
    expect(creditsBefore).toBe(0);
    // The loop ends after close().
    expect(await take(c, 1)).toEqual([]);
    await expect(c.connect()).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
  });

  it('lets running handlers finish and leaves queued records to the broker', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ key: 'k', value: '1' }, { key: 'k', value: '2' }, { key: 'k', value: '3' }]);
    const c = consumer();
    let release: () => void = () => undefined;
    const started: string[] = [];
    const run = c.run(async (m) => {
      started.push(m.value.toString());
      await new Promise<void>((resolve) => { release = resolve; });
    });
    await until(() => started.length === 1, 'the first handler runs');
    await until(() => broker.subscriptions.deliveries.length === 3, 'all three are delivered');
    const closed = c.close();
    await sleep(30);
    release();
    await closed;
    await run;
    expect(started).toEqual(['1']);
    expect(committed()).toBe(1);
    // The other two were released when the stream ended, for another member.
    const described = broker.subscriptions.describe('t', 's');
    expect(described.partitions[0]).toMatchObject({ committedOffset: 1, unacked: 0, pendingRetries: 2 });
    expect(described.members).toEqual([]);
  });
});

describe('Consumer: failures and reconnects', () => {
  it('reconnects with the same member id when the broker drops the stream; unsettled records come again and are not acked on the new stream', async () => {
    broker.createTopic('t');
    broker.publish('t', Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })));
    const c = consumer({ ackFlushMs: 1, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const first = await take(c, 5);
    first[0]?.ack();
    first[1]?.ack();
    await until(() => committed() === 2, 'the first two acks are committed');

    broker.dropConsumerStreams();
    await until(() => broker.subscriptions.streams === 2 && broker.subscriptions.members('t', 's').length === 1, 'the consumer reconnects');
    expect(requests('open').map((o) => o.memberId)).toEqual([c.memberId, c.memberId]);

    // Settling what the dead stream delivered sends nothing on the new one.
    for (const m of first.slice(2)) m.ack();
    await sleep(30);
    expect(requests('ack', 2)).toEqual([]);

    // The unsettled records and the ones still queued come again, once each.
    const again = await take(c, 8);
    expect(again.map((m) => [m.offset, m.attempt])).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((o) => [o, 2]));
    for (const m of again) m.ack();
    await until(() => committed() === 10, 'everything is committed');
    expect(requests('ack', 2).flatMap((a) => offsetsIn(a.ranges)).sort((x, y) => x - y)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('keeps retrying while the broker is away, then carries on', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const c = consumer({ reconnect: { initialDelayMs: 5, maxDelayMs: 20, jitter: 'none' } });
    const [a] = await take(c, 1);
    a?.ack();
    await until(() => committed() === 1, 'a is committed');
    for (let i = 0; i < 3; i++) {
      broker.dropConsumerStreams();
      await sleep(15);
    }
    broker.publish('t', [{ value: 'b' }]);
    const [b] = await take(c, 1);
    expect(b?.value.toString()).toBe('b');
  });

  it('gives up with UNAVAILABLE once the broker stays away past reconnect.deadlineMs, counted from the failure', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const logger = new MemoryLogger();
    const c = consumer({ logger, reconnect: { initialDelayMs: 10, maxDelayMs: 20, jitter: 'none', deadlineMs: 200 } });
    (await take(c, 1))[0]?.ack();
    await sleep(300); // a healthy session longer than the deadline
    broker.stop();
    const started = Date.now();
    await expect(take(c, 1)).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(logger.entries.filter((e) => e.message === 'subscribe stream lost; reconnecting').length).toBeGreaterThanOrEqual(3);
  });

  it('fails with NOT_FOUND for an unknown topic, and for an unknown subscription without createIfMissing', async () => {
    await expect(take(consumer({ topic: 'nope' }), 1)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'TOPIC_NOT_FOUND' });
    broker.createTopic('t');
    const strict = consumer({ createIfMissing: false });
    await expect(take(strict, 1)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'SUBSCRIPTION_NOT_FOUND' });
    await expect(strict.run(() => undefined)).rejects.toMatchObject({ code: Status.NOT_FOUND });
    await expect(take(strict, 1)).rejects.toMatchObject({ reason: 'SUBSCRIPTION_NOT_FOUND' });
  });

  it('fails with the status of a stream the broker ends for good (a deleted subscription)', async () => {
    broker.createTopic('t');
    broker.publish('t', [{ value: 'a' }]);
    const c = consumer();
    await take(c, 1);
    const admin = new Admin({ brokers: broker.address });
    await admin.deleteSubscription('t', 's');
    admin.close();
    await expect(take(c, 1)).rejects.toMatchObject({ code: Status.NOT_FOUND, reason: 'SUBSCRIPTION_NOT_FOUND' });
  });

  it('validates its options', () => {
    expect(() => new Consumer({ brokers: 'x:1', topic: 'bad topic', subscription: 's' })).toThrow(/topic name/);
    expect(() => new Consumer({ brokers: 'x:1', topic: 't', subscription: 's', prefetchRecords: 0 })).toThrow(/prefetchRecords/);
    expect(() => new Consumer({ brokers: 'x:1', topic: 't', subscription: 's', ackFlushMs: -1 })).toThrow(/ackFlushMs/);
    expect(() => new Consumer({ brokers: 'x:1', topic: 't', subscription: 's', reconnect: { multiplier: 0 } })).toThrow(/multiplier/);
  });
});
