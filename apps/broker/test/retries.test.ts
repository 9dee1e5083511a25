// Retries, backoff and dead letters on a real broker (issue 5): nacks follow
// the subscription's backoff and end in the dead-letter topic with the whole
// attempt ledger; reject dead-letters at once; an expired lease is a failed
// attempt; BLOCK_KEY holds a key back while its record waits; 10,000
// pending retries and delayed records survive a crash; a crash between the
// dead-letter write and the settle leaves exactly one dead letter.
import { describe, expect, it } from 'vitest';
import { DeadLetter, Disposition, Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import type { Delivery } from '@braid/proto';
import { createSubscription, createTopic, describeBroker, describeSubscription, publish } from './grpc-helpers.js';
import { useLocalCluster } from './cluster-fixture.js';
import { Status, SubscribeClient } from './subscribe-client.js';




const t = useLocalCluster();


const valueOf = (d: Delivery | undefined): string => Buffer.from(d?.record?.value ?? []).toString();

function nack(client: SubscribeClient, d: Delivery, options: { delayMs?: number; reason?: string; release?: boolean } = {}): void {
  client.send({
    kind: {
      $case: 'nack',
      value: {
        partition: d.record?.partition ?? 0,
        offset: d.record?.offset ?? 0,
        delayMs: options.delayMs,
        reason: options.reason ?? 'boom',
        errorClass: 'TestError',
        release: options.release ?? false,
      },
    },
  });
}

function reject(client: SubscribeClient, d: Delivery, reason: string): void {
  client.send({ kind: { $case: 'reject', value: { partition: d.record?.partition ?? 0, offset: d.record?.offset ?? 0, reason, errorClass: 'PoisonError' } } });
}

/**
 * Reads `count` dead letters from a dead-letter topic through a fresh
 * subscription (the topic is created with the first dead letter: until then
 * opening it is NOT_FOUND).
 */
async function deadLetters(topic: string, count: number): Promise<{ delivery: Delivery; letter: DeadLetter }[]> {
  const deadline = Date.now() + 30_000;
  let reader = new SubscribeClient(t.consumers, true);
  for (;;) {
    reader.open(topic, `reader-${Date.now()}`, { credit: 1000 });
    await reader.waitFor(count, 30_000);
    if (reader.status?.code !== Status.NOT_FOUND || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
    reader = new SubscribeClient(t.consumers, true);
  }
  expect(reader.status).toBeUndefined();
  // A moment for an unexpected extra dead letter to show up.
  await new Promise((resolve) => setTimeout(resolve, 500));
  reader.end();
  return reader.deliveries.map((delivery) => ({ delivery, letter: DeadLetter.decode(delivery.record?.value ?? new Uint8Array()) }));
}

describe('retries and dead letters', () => {
  it('retries with the backoff policy, then dead-letters with a 5-entry ledger', async () => {
    await createTopic(t.api.admin, 'orders', { partitions: 1 });
    await createSubscription(t.api.admin, 'orders', 'billing', {
      mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED,
      retryPolicy: { maxAttempts: 5, initialBackoffMs: 200, multiplier: 2, maxBackoffMs: 1000, jitter: Jitter.JITTER_EQUAL },
    });
    await publish(t.api.producer, { topic: 'orders', records: [{ key: Buffer.from('user-1'), value: Buffer.from('create'), headers: { trace: 't1' } }] });
    const client = new SubscribeClient(t.consumers);
    client.open('orders', 'billing', { credit: 100 });
    const arrivals: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await client.waitFor(attempt, 30_000);
      arrivals.push(Date.now());
      const d = client.deliveries[attempt - 1];
      expect(d?.attempt).toBe(attempt);
      expect(valueOf(d)).toBe('create');
      if (d) nack(client, d, { reason: `failure ${attempt}` });
    }
    // Equal jitter: the retry after attempt n waits between half and all of 200 * 2^(n-1), capped at 1000.
    for (let n = 1; n < 5; n++) {
      const full = Math.min(200 * 2 ** (n - 1), 1000);
      const gap = (arrivals[n] ?? 0) - (arrivals[n - 1] ?? 0);
      expect(gap).toBeGreaterThanOrEqual(full / 2 - 20);
    }
    const [dead, ...more] = await deadLetters('orders.billing.dlq', 1);
    expect(more).toEqual([]);
    expect(dead?.letter.origin).toMatchObject({ topic: 'orders', partition: 0, offset: 0, subscription: 'billing' });
    expect(Buffer.from(dead?.letter.value ?? []).toString()).toBe('create');
    expect(dead?.letter.headers).toEqual({ trace: 't1' });
    expect(dead?.letter.attempts.map((a) => [a.attempt, a.disposition, a.reason, a.errorClass])).toEqual(
      [1, 2, 3, 4, 5].map((n) => [n, Disposition.DISPOSITION_NACK, `failure ${n}`, 'TestError']),
    );
    expect(Buffer.from(dead?.delivery.record?.key ?? []).toString()).toBe('user-1');
    expect(dead?.delivery.record?.headers['braid-dlq-origin']).toBe('orders/0/0/billing');
    // Operators can alert on the counter.
    expect((await describeBroker(t.api.admin)).deadLetteredRecords).toBe(1);
    // Settled on the main topic: nothing comes again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(client.deliveries).toHaveLength(5);
    client.end();
  });

  it('applies a nacks batch like one nack after the other, and refuses a batch with a bad nack whole', async () => {
    await createTopic(t.api.admin, 'batched', { partitions: 1 });
    const retryPolicy = { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 1, jitter: Jitter.JITTER_NONE };
    await createSubscription(t.api.admin, 'batched', 'workers', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy });
    await publish(t.api.producer, { topic: 'batched', records: ['a', 'b', 'c'].map((v) => ({ key: Buffer.from(v), value: Buffer.from(v) })) });
    const asNack = (d: Delivery | undefined, offset = d?.record?.offset ?? 0) => ({ partition: 0, offset, delayMs: undefined, reason: 'batched', errorClass: 'TestError', release: false });
    const client = new SubscribeClient(t.consumers);
    client.open('batched', 'workers', { credit: 100 });
    await client.waitFor(3);
    client.send({ kind: { $case: 'nacks', value: { nacks: client.deliveries.map((d) => asNack(d)) } } });
    await client.waitFor(6);
    expect(client.deliveries.slice(3).map((d) => [valueOf(d), d.attempt]).sort()).toEqual([['a', 2], ['b', 2], ['c', 2]]);
    expect(client.errors).toEqual([]);
    client.end();

    await createSubscription(t.api.admin, 'batched', 'strict', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy });
    const strict = new SubscribeClient(t.consumers);
    strict.open('batched', 'strict', { credit: 100 });
    await strict.waitFor(3);
    strict.send({ kind: { $case: 'nacks', value: { nacks: [asNack(strict.deliveries[0]), asNack(strict.deliveries[1], -1)] } } });
    await strict.ended;
    expect(strict.status?.code).toBe(Status.INVALID_ARGUMENT);
    expect(strict.status?.details).toContain('nacks[1].offset');
  });

  it('dead-letters a rejected record at once, and counts an expired lease as a failed attempt', async () => {
    await createTopic(t.api.admin, 'payments', { partitions: 1 });
    await createSubscription(t.api.admin, 'payments', 'ledger', {
      ackTimeoutMs: 300,
      retryPolicy: { maxAttempts: 2, initialBackoffMs: 0, maxBackoffMs: 1000 },
    });
    await publish(t.api.producer, {
      topic: 'payments',
      records: [
        { key: Buffer.from('a'), value: Buffer.from('poison'), headers: {} },
        { key: Buffer.from('b'), value: Buffer.from('slow'), headers: {} },
      ],
    });
    const client = new SubscribeClient(t.consumers);
    client.open('payments', 'ledger', { credit: 100, ackTimeoutMs: 300 });
    await client.waitFor(2);
    const poison = client.deliveries.find((d) => valueOf(d) === 'poison');
    if (poison) reject(client, poison, 'cannot parse');
    // `slow` is never settled: its lease expires (attempt 1), it comes again (attempt 2), expires again, and is dead.
    await client.waitFor(3, 30_000);
    const again = client.deliveries[2];
    expect(valueOf(again)).toBe('slow');
    expect(again?.attempt).toBe(2);
    const letters = await deadLetters('payments.ledger.dlq', 2);
    const byValue = new Map(letters.map(({ letter }) => [Buffer.from(letter.value).toString(), letter]));
    expect(byValue.get('poison')?.attempts.map((a) => [a.disposition, a.reason, a.errorClass])).toEqual([
      [Disposition.DISPOSITION_REJECT, 'cannot parse', 'PoisonError'],
    ]);
    expect(byValue.get('slow')?.attempts.map((a) => [a.attempt, a.disposition, a.reason])).toEqual([
      [1, Disposition.DISPOSITION_LEASE_EXPIRED, 'lease_expired'],
      [2, Disposition.DISPOSITION_LEASE_EXPIRED, 'lease_expired'],
    ]);
    expect(client.notices.length).toBeGreaterThan(0);
    client.end();
  });

  it('BLOCK_KEY holds later records of a failed key back while other keys flow; SKIP does not', async () => {
    await createTopic(t.api.admin, 'users', { partitions: 1 });
    for (const [name, order] of [
      ['block', RetryOrder.RETRY_ORDER_BLOCK_KEY],
      ['skip', RetryOrder.RETRY_ORDER_SKIP],
    ] as const) {
      await createSubscription(t.api.admin, 'users', name, { retryPolicy: { maxAttempts: 5, retryOrder: order } });
    }
    await publish(t.api.producer, {
      topic: 'users',
      records: ['create', 'delete', 'other'].map((value) => ({ key: Buffer.from(value === 'other' ? 'u2' : 'u1'), value: Buffer.from(value), headers: {} })),
    });
    for (const name of ['block', 'skip']) {
      const client = new SubscribeClient(t.consumers);
      client.open('users', name, { credit: 1 });
      await client.waitFor(1);
      const create = client.deliveries[0];
      expect(valueOf(create)).toBe('create');
      if (create) nack(client, create, { delayMs: 1500 });
      // One record at a time: what comes next while `create` waits for its retry?
      const seen: string[] = [];
      for (let i = 2; i <= 4; i++) {
        client.credit(1);
        await client.waitFor(i, 30_000);
        const d = client.deliveries[i - 1];
        seen.push(`${valueOf(d)}#${d?.attempt ?? 0}`);
        if (d) client.ack([d]);
      }
      if (name === 'block') expect(seen).toEqual(['other#1', 'create#2', 'delete#1']);
      else expect(seen).toEqual(['delete#1', 'other#1', 'create#2']);
      client.end();
    }
  });

  it('keeps 10,000 pending retries and delayed records, and their attempt counts, across a broker crash', async () => {
    await createTopic(t.api.admin, 'jobs', { partitions: 4 });
    await createSubscription(t.api.admin, 'jobs', 'workers', { retryPolicy: { maxAttempts: 10 }, maxUnackedPerMember: 20_000 });
    const retried = 10_000;
    const delayed = 2_000;
    const records = (prefix: string, count: number, delayMs?: number) =>
      Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`k${i % 1000}`), value: Buffer.from(`${prefix}-${i}`), headers: {}, delayMs }));
    for (let i = 0; i < retried; i += 2_000) await publish(t.api.producer, { topic: 'jobs', records: records('job', retried).slice(i, i + 2_000) });
    const first = new SubscribeClient(t.consumers);
    first.open('jobs', 'workers', { credit: retried + delayed });
    // Without acking: the broker keeps sending while the credit lasts.
    await first.waitFor(retried, 60_000);
    // Fail every one: retried 8 s from now. Meanwhile, records published to
    // be delivered after the crash (other keys, so they do not wait behind the retries).
    for (const d of first.deliveries) nack(first, d, { delayMs: 8_000 });
    await publish(t.api.producer, {
      topic: 'jobs',
      records: records('later', delayed, 9_000).map((r, i) => ({ ...r, key: Buffer.from(`d${i}`) })),
    });
    // Every nack applied and saved before the crash.
    await expect
      .poll(async () => (await describeSubscription(t.api.admin, 'jobs', 'workers')).partitions.reduce((sum, p) => sum + p.pendingRetries, 0), { timeout: 30_000, interval: 200 })
      .toBe(retried + delayed);
    expect(first.deliveries).toHaveLength(retried);
    // Counted when applied; durable once the group commit wrote them, milliseconds later.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await t.restartBroker({ kill9: true });
    const second = new SubscribeClient(t.consumers, true);
    second.open('jobs', 'workers', { credit: (retried + delayed) * 2 });
    await second.waitFor(retried + delayed, 90_000);
    // A moment for a duplicate to show up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(second.deliveries).toHaveLength(retried + delayed);
    const values = second.deliveries.map(valueOf);
    expect(new Set(values).size).toBe(retried + delayed);
    // Attempts kept counting: each retried record is on its second attempt, each delayed one on its first.
    expect(second.deliveries.filter((d) => valueOf(d).startsWith('job-') && d.attempt !== 2)).toEqual([]);
    expect(second.deliveries.filter((d) => valueOf(d).startsWith('later-') && d.attempt !== 1)).toEqual([]);
    expect(values.filter((v) => v.startsWith('later-'))).toHaveLength(delayed);
    second.end();
  }, 180_000);
});

describe('delayed delivery', () => {
  it('delivers a delayed record when due, in key order, and keeps it across a restart', async () => {
    await createTopic(t.api.admin, 'reminders', { partitions: 1 });
    await createSubscription(t.api.admin, 'reminders', 'push', { startPosition: StartPosition.START_POSITION_EARLIEST });
    const published = Date.now();
    await publish(t.api.producer, {
      topic: 'reminders',
      records: [
        { key: Buffer.from('u1'), value: Buffer.from('later'), headers: {}, delayMs: 4000 },
        { key: Buffer.from('u1'), value: Buffer.from('after-later'), headers: {} },
        { key: Buffer.from('u2'), value: Buffer.from('now'), headers: {} },
      ],
    });
    const first = new SubscribeClient(t.consumers, true);
    first.open('reminders', 'push', { credit: 10 });
    await first.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Only the other key's record is due; u1's second record waits behind the delayed one.
    expect(first.deliveries.map(valueOf)).toEqual(['now']);
    first.end();
    // The delay is durable: a broker crash does not lose or shorten it.
    await t.restartBroker({ kill9: true });
    const second = new SubscribeClient(t.consumers, true);
    second.open('reminders', 'push', { credit: 10 });
    await second.waitFor(2, 30_000);
    const arrived = Date.now();
    expect(second.deliveries.map(valueOf)).toEqual(['later', 'after-later']);
    expect(arrived - published).toBeGreaterThanOrEqual(4000);
    second.end();
  });
});

describe('dead-lettering crash safety', () => {
  it('a crash between the dead-letter write and the settle leaves exactly one dead letter', async () => {
    await createTopic(t.api.admin, 'emails', { partitions: 1 });
    await createSubscription(t.api.admin, 'emails', 'sender', {});
    await publish(t.api.producer, { topic: 'emails', records: [{ key: Buffer.from('x'), value: Buffer.from('bounce'), headers: {} }] });
    await t.restartBroker({ env: { BRAID_FAULT_POINT: 'after-dead-letter-write' } });
    const client = new SubscribeClient(t.consumers);
    client.open('emails', 'sender', { credit: 10 });
    await client.waitFor(1);
    const d = client.deliveries[0];
    if (d) reject(client, d, 'hard bounce');
    // The broker kills itself right after the dead letter is durable.
    await client.ended;
    expect((await t.cluster.broker.exited).signal).toBe('SIGKILL');
    await t.restartBroker({ env: {} });
    const after = new SubscribeClient(t.consumers);
    after.open('emails', 'sender', { credit: 10 });
    const letters = await deadLetters('emails.sender.dlq', 1);
    expect(letters).toHaveLength(1);
    expect(Buffer.from(letters[0]?.letter.value ?? []).toString()).toBe('bounce');
    // Settled after the restart: not delivered again.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(after.deliveries).toHaveLength(0);
    after.end();
  });
});
