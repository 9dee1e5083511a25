// Retries and dead letters through the SDK against a real broker (issue 5):
// `Consumer.run()` settles for the handler (return: ack, throw: nack,
// `PoisonMessageError` or a `parse` failure: reject), and the broker's retry
// policy, BLOCK_KEY / SKIP order and dead-letter topic do the rest.
//
// - BLOCK_KEY: 1,000 keys x 10 records, 10% of first attempts failing,
//   16 handlers at once: every record succeeds exactly once, each key in
//   sequence order, the failed ones on attempt 2.
// - SKIP: keys that always fail do not hold back later records of their own
//   key or other keys; they end in `<topic>.<subscription>.dlq` with a
//   `max_attempts`-entry ledger.
// - `PoisonMessageError` and `parse` failures dead-letter at once.
// - A subscription rate limit shares its rate among all partitions with a
//   backlog.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, PoisonMessageError, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { DeadLetter, Disposition, Durability, Jitter, RetryOrder, StartPosition, SubscriptionMode } from '@braid/proto';
import { Database, Keyspace, keyspaceRange } from '@braid/storage';
import type { KeyspaceId } from '@braid/storage';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;
let admin: Admin;
let producer: Producer;
/** Closes every consumer a test started, should the test fail half-way. */
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  cluster = await startLocalCluster();
  admin = new Admin({ brokers: cluster.broker.address });
  producer = new Producer({ brokers: cluster.broker.address });
}, 120_000);

afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
  await producer.close();
  admin.close();
  await cluster.destroy();
});

/** Keeps a consumer for `afterAll` to close if a test fails half-way. */
function track<T>(consumer: Consumer<T>): Consumer<T> {
  closers.push(() => consumer.close({ timeoutMs: 1_000 }));
  return consumer;
}

/** `key-<k>` carries sequence numbers 0..perKey-1, published one round (one sequence number of every key) at a time. */
async function publishSequences(topic: string, keys: number, perKey: number): Promise<void> {
  for (let seq = 0; seq < perKey; seq++) {
    await producer.send(
      topic,
      Array.from({ length: keys }, (_, k) => ({ key: `key-${k}`, value: JSON.stringify({ key: `key-${k}`, seq }) })),
    );
  }
}

/** Deterministic choice of ~`percent`% of records by their position in the log. */
function chosen(message: Message<unknown>, percent: number): boolean {
  const digest = createHash('sha256').update(`${message.partition}:${message.offset}`).digest();
  return digest.readUInt32BE(0) % 100 < percent;
}

/** Records acknowledged in every partition of the subscription (its committed offsets). */
async function committed(topic: string, subscription: string): Promise<number> {
  const described = await admin.describeSubscription(topic, subscription);
  return described.partitions.reduce((sum, p) => sum + p.committedOffset, 0);
}

/**
 * Reads `count` dead letters from a dead-letter topic with an SDK consumer
 * (the topic exists once the broker wrote the first dead letter), then
 * checks that no more arrive while the main subscription is settled.
 */
async function readDeadLetters(deadLetterTopic: string, count: number): Promise<{ message: Message<DeadLetter>; letter: DeadLetter }[]> {
  await expect.poll(async () => (await admin.listTopics()).some((t) => t.name === deadLetterTopic), { timeout: 60_000, interval: 200 }).toBe(true);
  const reader = track(
    new Consumer({
      brokers: cluster.broker.address,
      topic: deadLetterTopic,
      subscription: 'inspector',
      createIfMissing: true,
      settings: { startPosition: StartPosition.START_POSITION_EARLIEST },
      parse: (value) => DeadLetter.decode(value),
    }),
  );
  const letters: { message: Message<DeadLetter>; letter: DeadLetter }[] = [];
  const run = reader.run((message) => {
    letters.push({ message, letter: message.data });
  });
  await expect.poll(() => letters.length, { timeout: 60_000, interval: 100 }).toBeGreaterThanOrEqual(count);
  await reader.close();
  await run;
  return letters;
}

describe.each([
  ['KEY_SHARED', SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED],
  ['PARTITIONED', SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED],
] as const)('SDK run() with BLOCK_KEY retries (%s, 1,000 keys, concurrency 16)', (modeName, mode) => {
  it('processes every record successfully exactly once, in per-key sequence order, retrying the 10% that fail their first attempt', async () => {
    const topic = `sdk-ordered-${modeName.toLowerCase()}`;
    const keys = 1_000;
    // Enough records per key that retries, records handed back and later
    // records of the same key are in flight together.
    const perKey = 30;
    const total = keys * perKey;
    await admin.createTopic(topic, { partitions: 8, durability: Durability.DURABILITY_WRITE });
    await publishSequences(topic, keys, perKey);

    const consumer = track(
      new Consumer({
        brokers: cluster.broker.address,
        topic,
        subscription: 'workers',
        createIfMissing: true,
        settings: {
          mode,
          startPosition: StartPosition.START_POSITION_EARLIEST,
          // BLOCK_KEY is the default of both modes; spelled out as it is what this test is about.
          retryPolicy: { maxAttempts: 5, initialBackoffMs: 20, multiplier: 2, maxBackoffMs: 200, retryOrder: RetryOrder.RETRY_ORDER_BLOCK_KEY },
        },
        parse: (value) => JSON.parse(value.toString()) as { key: string; seq: number },
      }),
    );

    /** Records (partition:offset) whose first handler call failed on purpose. */
    const failedOnce = new Set<string>();
    /** partition:offset -> successful handler calls, and the attempt of the last one. */
    const successes = new Map<string, { count: number; attempt: number }>();
    /** key -> sequence numbers in the order their handlers succeeded. */
    const order = new Map<string, number[]>();
    /** Keys with a handler running: a second one at the same time breaks per-key order. */
    const busy = new Set<string>();
    const overlaps: string[] = [];
    let succeeded = 0;

    const run = consumer.run(
      async (message) => {
        const id = `${message.partition}:${message.offset}`;
        const { key, seq } = message.data;
        if (busy.has(key)) overlaps.push(`${key}#${seq}`);
        busy.add(key);
        try {
          // Yield, so that handlers of different keys interleave.
          await new Promise((resolve) => setImmediate(resolve));
          if (chosen(message, 10) && !failedOnce.has(id)) {
            failedOnce.add(id);
            throw new Error(`transient failure of ${key}#${seq}`); // run() nacks: retried after the backoff
          }
          const entry = successes.get(id) ?? { count: 0, attempt: 0 };
          successes.set(id, { count: entry.count + 1, attempt: message.attempt });
          order.set(key, [...(order.get(key) ?? []), seq]);
          succeeded += 1;
        } finally {
          busy.delete(key);
        }
      },
      { concurrency: 16 },
    );

    await expect.poll(() => succeeded, { timeout: 180_000, interval: 200 }).toBeGreaterThanOrEqual(total);
    await expect.poll(() => committed(topic, 'workers'), { timeout: 60_000, interval: 200 }).toBe(total);
    await consumer.close();
    await run;

    // About 10% failed their first attempt (deterministic choice by position).
    expect(failedOnce.size).toBeGreaterThan(total * 0.07);
    expect(failedOnce.size).toBeLessThan(total * 0.13);
    // Every record succeeded, exactly once.
    expect(successes.size).toBe(total);
    expect([...successes].filter(([, s]) => s.count !== 1)).toEqual([]);
    expect(succeeded).toBe(total);
    // The failed ones succeeded on their retry (attempt 2); the others on their first
    // delivery (records handed back behind a failed one count no attempt).
    expect([...failedOnce].filter((id) => successes.get(id)?.attempt !== 2)).toEqual([]);
    expect([...successes].filter(([id, s]) => !failedOnce.has(id) && s.attempt !== 1)).toEqual([]);
    // Per key: one handler at a time, successes in strictly increasing sequence order.
    expect(overlaps).toEqual([]);
    expect(order.size).toBe(keys);
    const violations = [...order].filter(([, seqs]) => seqs.some((seq, i) => i > 0 && seq <= (seqs[i - 1] ?? -1)));
    expect(violations.map(([key, seqs]) => `${key}: ${seqs.join(',')}`)).toEqual([]);
    for (const [key, seqs] of order) expect(seqs, key).toEqual(Array.from({ length: perKey }, (_, i) => i));

    // Every retry state and every due-index entry is gone with its record
    // (the broker writes them without reading them back first: a wrong
    // idea of what it stored would leave entries here).
    await cluster.broker.stop('SIGTERM');
    const db = await Database.open(join(cluster.brokerDataDir(), 'log'));
    try {
      const count = async (keyspace: KeyspaceId): Promise<number> => {
        let n = 0;
        for await (const [key] of db.entries(keyspaceRange(keyspace), { values: false })) if (key[0] === keyspace) n++;
        return n;
      };
      expect(await count(Keyspace.retry)).toBe(0);
      expect(await count(Keyspace.retryDue)).toBe(0);
    } finally {
      await db.close();
      await cluster.restartBroker();
    }
  }, 300_000);
});

describe('SDK run() with SKIP retries', () => {
  it('lets other records, of the failing keys too, flow past records that fail until they are dead-lettered with a max_attempts ledger', async () => {
    const topic = 'sdk-skip';
    const keys = 200;
    const perKey = 10;
    const maxAttempts = 4;
    const failing = new Set(['key-7', 'key-42', 'key-199']);
    await admin.createTopic(topic, { partitions: 4, durability: Durability.DURABILITY_WRITE });
    await publishSequences(topic, keys, perKey);

    const consumer = track(
      new Consumer({
        brokers: cluster.broker.address,
        topic,
        subscription: 'mailer',
        createIfMissing: true,
        settings: {
          mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
          startPosition: StartPosition.START_POSITION_EARLIEST,
          retryPolicy: {
            maxAttempts,
            // Retries 100-200, 200-400, 400-800 ms apart: the key's next record is
            // handed out long before its first one has used its attempts.
            initialBackoffMs: 200,
            multiplier: 2,
            maxBackoffMs: 800,
            jitter: Jitter.JITTER_EQUAL,
            retryOrder: RetryOrder.RETRY_ORDER_SKIP,
          },
        },
        parse: (value) => JSON.parse(value.toString()) as { key: string; seq: number },
      }),
    );

    class MailboxFullError extends Error {
      override name = 'MailboxFullError';
    }
    /** Handler calls in order: key, seq, attempt, outcome. */
    const calls: { key: string; seq: number; attempt: number; ok: boolean }[] = [];
    const good = new Map<string, number>();
    const run = consumer.run(
      (message) => {
        const { key, seq } = message.data;
        const ok = !failing.has(key);
        calls.push({ key, seq, attempt: message.attempt, ok });
        if (!ok) throw new MailboxFullError(`mailbox of ${key} is full`);
        const id = `${message.partition}:${message.offset}`;
        good.set(id, (good.get(id) ?? 0) + 1);
      },
      { concurrency: 16 },
    );

    const goodTotal = (keys - failing.size) * perKey;
    const badTotal = failing.size * perKey;
    await expect.poll(() => good.size, { timeout: 120_000, interval: 200 }).toBe(goodTotal);
    const letters = await readDeadLetters(`${topic}.mailer.dlq`, badTotal);
    // Dead-lettering settles the records on the main topic: everything is committed.
    await expect.poll(() => committed(topic, 'mailer'), { timeout: 60_000, interval: 200 }).toBe(keys * perKey);
    await consumer.close();
    await run;

    // Every other record succeeded exactly once.
    expect([...good.values()].filter((n) => n !== 1)).toEqual([]);
    // Not held back: each failing key's next record reached the handler
    // while its first record was still being retried (under BLOCK_KEY it
    // would wait until the first one was dead-lettered).
    for (const key of failing) {
      const lastTryOfFirst = calls.findIndex((c) => c.key === key && c.seq === 0 && c.attempt === maxAttempts);
      const firstTryOfSecond = calls.findIndex((c) => c.key === key && c.seq === 1 && c.attempt === 1);
      expect(lastTryOfFirst, key).toBeGreaterThanOrEqual(0);
      expect(firstTryOfSecond, key).toBeGreaterThanOrEqual(0);
      expect(firstTryOfSecond, key).toBeLessThan(lastTryOfFirst);
    }
    // Each failing record was tried max_attempts times and no more.
    for (const key of failing) {
      for (let seq = 0; seq < perKey; seq++) {
        expect(calls.filter((c) => c.key === key && c.seq === seq).map((c) => c.attempt), `${key}#${seq}`).toEqual([1, 2, 3, 4]);
      }
    }

    // The dead-letter topic holds exactly the failing records, once each, with their history.
    expect(letters).toHaveLength(badTotal);
    const dead = letters.map(({ message, letter }) => ({ message, letter, value: JSON.parse(Buffer.from(letter.value).toString()) as { key: string; seq: number } }));
    expect(dead.map((d) => `${d.value.key}#${d.value.seq}`).sort()).toEqual(
      [...failing].flatMap((key) => Array.from({ length: perKey }, (_, seq) => `${key}#${seq}`)).sort(),
    );
    for (const { message, letter, value } of dead) {
      expect(letter.origin).toMatchObject({ topic, subscription: 'mailer' });
      expect(Buffer.from(letter.origin?.key ?? []).toString()).toBe(value.key);
      expect(message.key?.toString()).toBe(value.key);
      expect(message.headers['braid-dlq-origin']).toBe(`${topic}/${letter.origin?.partition}/${letter.origin?.offset}/mailer`);
      expect(letter.attempts.map((a) => [a.attempt, a.disposition, a.reason, a.errorClass])).toEqual(
        [1, 2, 3, 4].map((n) => [n, Disposition.DISPOSITION_NACK, `mailbox of ${value.key} is full`, 'MailboxFullError']),
      );
      expect(letter.attempts.every((a) => a.memberId === consumer.memberId)).toBe(true);
      // Attempts are recorded oldest first.
      expect(letter.attempts.map((a) => a.timeMs)).toEqual([...letter.attempts.map((a) => a.timeMs)].sort((a, b) => a - b));
    }
  }, 300_000);
});

describe('SDK run() with poison records', () => {
  it('dead-letters a PoisonMessageError at once (1-entry REJECT ledger) and an unparsable record without calling the handler', async () => {
    const topic = 'sdk-poison';
    await admin.createTopic(topic, { partitions: 2, durability: Durability.DURABILITY_WRITE });
    const sent = await producer.send(topic, [
      { key: 'u1', value: JSON.stringify({ kind: 'post', id: 1 }) },
      { key: 'u2', value: JSON.stringify({ kind: 'deleted-account', id: 2 }), headers: { source: 'test' } },
      { key: 'u3', value: '{"kind": "post", "id": 3' },
      { key: 'u1', value: JSON.stringify({ kind: 'post', id: 4 }) },
    ]);
    const [, poison, unparsable] = sent;

    const consumer = track(
      new Consumer({
        brokers: cluster.broker.address,
        topic,
        subscription: 'notifier',
        createIfMissing: true,
        settings: {
          startPosition: StartPosition.START_POSITION_EARLIEST,
          retryPolicy: { maxAttempts: 5, initialBackoffMs: 20, maxBackoffMs: 200 },
        },
        parse: (value) => JSON.parse(value.toString()) as { kind: string; id: number },
      }),
    );
    const calls: { id: number; attempt: number; offset: string }[] = [];
    const run = consumer.run((message) => {
      calls.push({ id: message.data.id, attempt: message.attempt, offset: `${message.partition}:${message.offset}` });
      if (message.data.kind === 'deleted-account') throw new PoisonMessageError(`account of post ${message.data.id} is deleted`);
    });

    const letters = await readDeadLetters(`${topic}.notifier.dlq`, 2);
    await expect.poll(() => committed(topic, 'notifier'), { timeout: 60_000, interval: 200 }).toBe(4);
    await consumer.close();
    await run;

    // The handler ran once for each parsable record, never for the unparsable one, and the poison was not retried.
    expect(calls.map((c) => c.id).sort()).toEqual([1, 2, 4]);
    expect(calls.every((c) => c.attempt === 1)).toBe(true);
    expect(calls.some((c) => c.offset === `${unparsable?.partition}:${unparsable?.offset}`)).toBe(false);

    expect(letters).toHaveLength(2);
    const byOffset = new Map(letters.map(({ letter }) => [`${letter.origin?.partition}:${letter.origin?.offset}`, letter]));
    const poisonLetter = byOffset.get(`${poison?.partition}:${poison?.offset}`);
    expect(poisonLetter?.attempts.map((a) => [a.attempt, a.disposition, a.reason, a.errorClass])).toEqual([
      [1, Disposition.DISPOSITION_REJECT, 'account of post 2 is deleted', 'PoisonMessageError'],
    ]);
    expect(Buffer.from(poisonLetter?.value ?? []).toString()).toBe(JSON.stringify({ kind: 'deleted-account', id: 2 }));
    expect(poisonLetter?.headers).toEqual({ source: 'test' });
    expect(poisonLetter?.origin).toMatchObject({ topic, subscription: 'notifier' });

    const unparsableLetter = byOffset.get(`${unparsable?.partition}:${unparsable?.offset}`);
    expect(unparsableLetter?.attempts).toHaveLength(1);
    expect(unparsableLetter?.attempts[0]).toMatchObject({ attempt: 1, disposition: Disposition.DISPOSITION_REJECT, errorClass: 'SyntaxError' });
    expect(unparsableLetter?.attempts[0]?.reason).toMatch(/^parse failed: /);
    expect(Buffer.from(unparsableLetter?.value ?? []).toString()).toBe('{"kind": "post", "id": 3');
  }, 120_000);
});

describe('SDK run() on a rate-limited subscription', () => {
  // The rate limit decides how many records go out, not which partition they
  // come from: with a backlog on every partition, each gets a share, so
  // neither new records nor retries of one partition wait for another
  // partition's backlog to drain (with a topic carrying more than the limit,
  // that backlog never drains).
  it('shares the limited rate among all partitions with a backlog', async () => {
    const topic = 'sdk-limited';
    const partitions = 4;
    const perPartition = 60;
    await admin.createTopic(topic, { partitions, durability: Durability.DURABILITY_WRITE });
    for (let partition = 0; partition < partitions; partition++) {
      await producer.send(
        topic,
        Array.from({ length: perPartition }, (_, i) => ({ partition, key: `p${partition}-k${i % 10}`, value: `${partition}/${i}` })),
      );
    }
    const consumer = track(
      new Consumer({
        brokers: cluster.broker.address,
        topic,
        subscription: 'sms',
        createIfMissing: true,
        settings: {
          mode: SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED,
          startPosition: StartPosition.START_POSITION_EARLIEST,
          rateLimit: { recordsPerSecond: 50, burst: 5 },
        },
      }),
    );
    /** Partition of each handler call, in order. */
    const calls: number[] = [];
    const run = consumer.run((message) => { calls.push(message.partition); }, { concurrency: 4 });
    await expect.poll(() => calls.length, { timeout: 60_000, interval: 100 }).toBe(partitions * perPartition);
    await consumer.close();
    await run;

    // The first quarter of the records: a fair share would be 15 per partition.
    const first = calls.slice(0, perPartition);
    const share = Array.from({ length: partitions }, (_, p) => first.filter((c) => c === p).length);
    expect(share.every((n) => n >= 5), `records per partition among the first ${perPartition} delivered: ${share.join(', ')}`).toBe(true);
  }, 120_000);
});
