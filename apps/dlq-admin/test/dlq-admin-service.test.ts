// DlqAdminService against a real coordinator, broker and dlq-admin (issue
// 7): topic `orders` with two subscriptions; `billing` fails every record
// (even ones rejected as poison, odd ones nacked until their 2 attempts are
// used up), `shipping` processes them. Through dlq-admin's gRPC API: the
// queue and its depth, filtered and paged lists, one record with its
// ledger, purge of exactly a selection, dry runs that move nothing,
// redrives that reach `billing` only and leave the queue, edit-and-redrive
// whose edit survives a second dead-lettering, the redrive loop guard, the
// admin token, the audit log, and all of it across a dlq-admin restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { Disposition, Durability, StartPosition } from '@braid/proto';
import type { DeadLetter, DeadLetterRef } from '@braid/proto';
import { failure, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import { DlqAdminClient } from './dlq-admin-client.js';

const token = 'the-admin-token';
const topic = 'orders';
const dlqTopic = 'orders.billing.dlq';
const records = 40;
const queue = { topic, subscription: 'billing' };

let cluster: LocalCluster;
let admin: Admin;
let producer: Producer;
let dataDir: string;
let dlqAdmin: AppProcess;
let dlq: DlqAdminClient;
const consumers: Consumer[] = [];
const loops: Promise<void>[] = [];

/** Whether billing processes records now (after the queue filled up), and which `n` it still fails. */
let billingAccepts = false;
const stillFailing = new Set<number>();
/** Records billing processed (acked): n, redrive count, headers. */
const billingProcessed: { n: number; redriveCount: number; headers: Readonly<Record<string, string>>; key: string | undefined; value: string }[] = [];
/** n of every record shipping processed, in delivery order. */
const shippingProcessed: number[] = [];

const numberOf = (message: Message): number => (JSON.parse(message.value.toString()) as { n: number }).n;

function startDlqAdmin(): Promise<AppProcess> {
  return startApp('dlq-admin', {
    args: ['--data-dir', dataDir, '--broker', cluster.coordinator.address, '--poll-interval-ms', '300', '--redrive-limit', '1'],
    env: { BRAID_ADMIN_TOKEN: token },
  });
}

function consume(subscription: string, handle: (message: Message) => void): void {
  const consumer = new Consumer({ brokers: cluster.broker.address, topic, subscription });
  consumers.push(consumer);
  loops.push(
    (async () => {
      for await (const message of consumer) handle(message);
    })(),
  );
}

async function depth(): Promise<number> {
  const { queues } = await dlq.listQueues({ refresh: true, topic });
  return queues.find((q) => q.subscription === 'billing')?.depth ?? 0;
}

/** Every record of the billing queue matching `filter`, through pages of `pageSize`. */
async function listAll(filter: Parameters<DlqAdminClient['listRecords']>[0]['filter'] = {}, pageSize = 7): Promise<{ records: DeadLetter[]; totals: number[] }> {
  const all: DeadLetter[] = [];
  const totals: number[] = [];
  let pageToken = '';
  do {
    const page = await dlq.listRecords({ ...queue, filter, pageSize, pageToken });
    all.push(...page.records);
    totals.push(page.totalMatching);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return { records: all, totals };
}

const letterN = (letter: DeadLetter): number => (JSON.parse(letter.value.toString()) as { n: number }).n;
const refOf = (letter: DeadLetter): DeadLetterRef => ({ dlqPartition: letter.dlqPartition, dlqOffset: letter.dlqOffset });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Expects `promise` to fail with `reason`, its message naming `mentions`. */
async function expectFailure(promise: Promise<unknown>, reason: string, mentions: string): Promise<void> {
  const error = await failure(promise);
  expect(error.reason).toBe(reason);
  expect(error.message).toContain(mentions);
}

/** Polls `read` until `done` holds of its value (for hooks, where `expect.poll` is not available). */
async function waitFor<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
    await sleep(200);
    last = await read();
  }
}

beforeAll(async () => {
  cluster = await startLocalCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'braid-dlq-admin-'));
  dlqAdmin = await startDlqAdmin();
  dlq = new DlqAdminClient(dlqAdmin.address, token);
  admin = new Admin({ brokers: cluster.broker.address });
  producer = new Producer({ brokers: cluster.broker.address });
  await admin.createTopic(topic, { partitions: 2, durability: Durability.DURABILITY_WRITE });
  await admin.createSubscription(topic, 'billing', {
    startPosition: StartPosition.START_POSITION_EARLIEST,
    retryPolicy: { maxAttempts: 2, initialBackoffMs: 10, maxBackoffMs: 20 },
  });
  await admin.createSubscription(topic, 'shipping', { startPosition: StartPosition.START_POSITION_EARLIEST });
  consume('shipping', (message) => {
    shippingProcessed.push(numberOf(message));
    message.ack();
  });
  consume('billing', (message) => {
    const n = numberOf(message);
    if (billingAccepts && !stillFailing.has(n)) {
      billingProcessed.push({ n, redriveCount: message.redriveCount, headers: message.headers, key: message.key?.toString(), value: message.value.toString() });
      message.ack();
    } else if (n % 2 === 0) {
      message.reject('card declined', { errorClass: 'CardDeclinedError' });
    } else {
      message.nack({ delayMs: 0, reason: 'gateway timeout', errorClass: 'TimeoutError' });
    }
  });
  await producer.send(
    topic,
    Array.from({ length: records }, (_, n) => ({
      key: `user-${n % 5}`,
      value: JSON.stringify({ n, note: n % 4 === 0 ? 'vip customer' : 'regular' }),
      headers: { source: 'checkout' },
    })),
  );
  await waitFor('the billing queue to fill', depth, (d) => d === records);
  await waitFor('shipping to process every record', () => shippingProcessed.length, (n) => n === records);
  billingAccepts = true;
}, 120_000);

afterAll(async () => {
  await Promise.all(consumers.map((consumer) => consumer.close({ timeoutMs: 2_000 })));
  await Promise.allSettled(loops);
  await producer.close();
  admin.close();
  dlq.close();
  await dlqAdmin.kill9();
  await cluster.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('DlqAdminService', () => {
  it("lists the failing subscription's queue with its depth, age and arrivals; the healthy subscription has none", async () => {
    const { queues } = await dlq.listQueues({ refresh: true });
    const billing = queues.find((q) => q.topic === topic && q.subscription === 'billing');
    expect(billing).toMatchObject({ deadLetterTopic: dlqTopic, depth: records, arrivalsLastMinute: records });
    expect(billing?.oldestAgeMs).toBeGreaterThanOrEqual(0);
    expect(billing?.oldestAgeMs).toBeLessThan(120_000);
    expect(queues.some((q) => q.subscription === 'shipping')).toBe(false);
    expect((await dlq.listQueues({ topic: 'other' })).queues).toEqual([]);
    expect((await failure(dlq.listQueues({ topic: 'no spaces' }))).reason).toBe('INVALID_NAME');
  });

  it('pages through every record once, oldest first, with the total on every page', async () => {
    const { records: all, totals } = await listAll();
    expect(all.map(letterN).sort((a, b) => a - b)).toEqual(Array.from({ length: records }, (_, n) => n));
    expect(totals).toEqual(Array.from({ length: Math.ceil(records / 7) }, () => records));
    const times = all.map((letter) => letter.deadLetteredAtMs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('filters by error class, reason, attempts, key, value text and time, server-side', async () => {
    const ns = async (filter: Parameters<typeof listAll>[0]): Promise<number[]> => (await listAll(filter)).records.map(letterN).sort((a, b) => a - b);
    const evens = Array.from({ length: records / 2 }, (_, i) => i * 2);
    const odds = evens.map((n) => n + 1);
    expect(await ns({ errorClass: 'TimeoutError' })).toEqual(odds);
    expect(await ns({ reason: 'declined' })).toEqual(evens);
    expect(await ns({ minAttempts: 2 })).toEqual(odds);
    expect(await ns({ key: Buffer.from('user-3') })).toEqual([3, 8, 13, 18, 23, 28, 33, 38]);
    expect(await ns({ valueContains: 'vip' })).toEqual(evens.filter((n) => n % 4 === 0));
    expect(await ns({ valueContains: 'vip', errorClass: 'TimeoutError' })).toEqual([]);
    const { records: all } = await listAll();
    const middle = all[Math.floor(all.length / 2)]?.deadLetteredAtMs ?? 0;
    const later = all.filter((letter) => letter.deadLetteredAtMs >= middle).map(letterN).sort((a, b) => a - b);
    expect(await ns({ fromTimeMs: middle })).toEqual(later);
    expect(await ns({ toTimeMs: middle })).toHaveLength(records - later.length);
  });

  it('answers bad list requests with a precise status', async () => {
    await expectFailure(dlq.listRecords({ ...queue, pageSize: 1001 }), 'INVALID_ARGUMENT', 'page_size');
    await expectFailure(dlq.listRecords({ ...queue, filter: { fromTimeMs: 10, toTimeMs: 5 } }), 'INVALID_ARGUMENT', 'filter.to_time_ms');
    const page = await dlq.listRecords({ ...queue, pageSize: 5 });
    await expectFailure(dlq.listRecords({ ...queue, pageSize: 5, pageToken: page.nextPageToken, filter: { minAttempts: 2 } }), 'INVALID_ARGUMENT', 'page_token');
    await expectFailure(dlq.listRecords({ ...queue, pageToken: 'not-a-token' }), 'INVALID_ARGUMENT', 'page_token');
    await expectFailure(dlq.listRecords({ topic, subscription: '' }), 'INVALID_ARGUMENT', 'subscription');
    expect((await failure(dlq.listRecords({ topic, subscription: 'nobody' }))).reason).toBe('SUBSCRIPTION_NOT_FOUND');
    expect((await failure(dlq.listRecords({ topic: 'missing', subscription: 'billing' }))).code).toBe(5);
    expect(dlqAdmin.alive).toBe(true);
  });

  it('gets one record with its origin, value, original headers and whole attempt ledger', async () => {
    const [letter] = (await dlq.listRecords({ ...queue, filter: { errorClass: 'TimeoutError' }, pageSize: 1 })).records;
    if (!letter) throw new Error('no TimeoutError record');
    const { record } = await dlq.getRecord({ ...queue, dlqPartition: letter.dlqPartition, dlqOffset: letter.dlqOffset });
    const n = letterN(letter);
    expect(record?.origin).toMatchObject({ topic, subscription: 'billing', key: Buffer.from(`user-${n % 5}`) });
    expect(record?.headers).toEqual({ source: 'checkout' });
    expect(record?.redriveCount).toBe(0);
    expect(record?.edits).toEqual([]);
    expect(record?.attempts.map((a) => [a.attempt, a.disposition, a.reason, a.errorClass])).toEqual([
      [1, Disposition.DISPOSITION_NACK, 'gateway timeout', 'TimeoutError'],
      [2, Disposition.DISPOSITION_NACK, 'gateway timeout', 'TimeoutError'],
    ]);
    expect((await failure(dlq.getRecord({ ...queue, dlqPartition: 0, dlqOffset: 99_999 }))).reason).toBe('NOT_FOUND');
    expect((await failure(dlq.getRecord({ ...queue, dlqPartition: 0, dlqOffset: -1 }))).reason).toBe('INVALID_ARGUMENT');
  });

  it('purges exactly the selection, and a dry run purges nothing', async () => {
    const { records: all } = await listAll({ valueContains: 'regular', errorClass: 'TimeoutError' });
    const [a, b] = all;
    if (!a || !b) throw new Error('too few records');
    const selection = { selection: { $case: 'refs' as const, value: { refs: [refOf(a), refOf(b)] } } };
    const dry = await dlq.purge({ ...queue, selection, dryRun: true, actor: 'alice' });
    expect(dry.purged).toBe(2);
    expect(await depth()).toBe(records);

    const purged = await dlq.purge({ ...queue, selection, actor: 'alice' });
    expect(purged.purged).toBe(2);
    expect(purged.refs).toEqual(expect.arrayContaining([refOf(a), refOf(b)]));
    expect(await depth()).toBe(records - 2);
    const left = (await listAll()).records.map(letterN);
    expect(left).toHaveLength(records - 2);
    expect(left).not.toContain(letterN(a));
    expect(left).not.toContain(letterN(b));
    expect((await failure(dlq.getRecord({ ...queue, ...refOf(a) }))).reason).toBe('NOT_FOUND');
    // Gone means gone: purging it again names it as not found, and moves nothing.
    expect((await failure(dlq.purge({ ...queue, selection, actor: 'alice' }))).reason).toBe('NOT_FOUND');
    // Older than a time long ago: nothing.
    expect((await dlq.purge({ ...queue, olderThanMs: 1_000, actor: 'alice' })).purged).toBe(0);
    expect(await depth()).toBe(records - 2);
    await expectFailure(dlq.purge({ ...queue, actor: 'alice' }), 'INVALID_ARGUMENT', 'selection');
  });

  it('redrives records to the failing subscription only, and they leave the queue; a dry run moves nothing', async () => {
    const chosen = (await dlq.listRecords({ ...queue, filter: { errorClass: 'CardDeclinedError' }, pageSize: 3 })).records;
    expect(chosen).toHaveLength(3);
    const selection = { selection: { $case: 'refs' as const, value: { refs: chosen.map(refOf) } } };

    const dry = await dlq.redrive({ ...queue, selection, dryRun: true, actor: 'bob' });
    expect(dry[dry.length - 1]).toMatchObject({ total: 3, redriven: 3, skipped: 0, done: true });
    expect(dry.flatMap((m) => m.refs)).toEqual(expect.arrayContaining(chosen.map(refOf)));
    expect(await depth()).toBe(records - 2);

    const messages = await dlq.redrive({ ...queue, selection, actor: 'bob' });
    expect(messages[messages.length - 1]).toMatchObject({ total: 3, redriven: 3, skipped: 0, done: true });
    expect(messages.flatMap((m) => m.refs)).toHaveLength(3);
    expect(await depth()).toBe(records - 5);
    for (const letter of chosen) expect((await failure(dlq.getRecord({ ...queue, ...refOf(letter) }))).reason).toBe('NOT_FOUND');

    await expect.poll(() => billingProcessed.length, { timeout: 30_000, interval: 100 }).toBe(3);
    // Nothing more arrives, at billing or at shipping (which processed them long ago).
    await sleep(1_500);
    expect(billingProcessed).toHaveLength(3);
    expect(shippingProcessed).toHaveLength(records);
    expect(billingProcessed.map((p) => p.n).sort((a, b) => a - b)).toEqual(chosen.map(letterN).sort((a, b) => a - b));
    for (const processed of billingProcessed) {
      const letter = chosen.find((l) => letterN(l) === processed.n);
      expect(processed.redriveCount).toBe(1);
      expect(processed.key).toBe(`user-${processed.n % 5}`);
      expect(processed.headers).toEqual({ source: 'checkout', 'braid-redriven-from': `${dlqTopic}/${letter?.dlqPartition}/${letter?.dlqOffset}` });
    }
  });

  it('edit-and-redrive keeps the original in the record; a record that fails again shows the edit, and the loop guard needs force', async () => {
    const [original] = (await dlq.listRecords({ ...queue, filter: { errorClass: 'CardDeclinedError' }, pageSize: 1 })).records;
    if (!original) throw new Error('no record left');
    const n = letterN(original);
    stillFailing.add(n);
    const newValue = Buffer.from(JSON.stringify({ n, note: 'fixed by carol' }));
    const edited = await dlq.redrive({
      ...queue,
      selection: { selection: { $case: 'refs', value: { refs: [refOf(original)] } } },
      newValue,
      newHeaders: { source: 'operator' },
      actor: 'carol',
    });
    expect(edited[edited.length - 1]).toMatchObject({ redriven: 1, done: true });

    // Billing rejects it again: it comes back as a new dead letter, carrying the edit.
    await expect.poll(async () => (await dlq.listRecords({ ...queue, filter: { valueContains: 'fixed by carol' } })).records.length, { timeout: 30_000, interval: 300 }).toBe(1);
    const [again] = (await dlq.listRecords({ ...queue, filter: { valueContains: 'fixed by carol' } })).records;
    if (!again) throw new Error('not dead-lettered again');
    const { record } = await dlq.getRecord({ ...queue, ...refOf(again) });
    expect(record?.value).toEqual(newValue);
    expect(record?.headers).toEqual({ source: 'operator', 'braid-redriven-from': `${dlqTopic}/${original.dlqPartition}/${original.dlqOffset}` });
    expect(record?.redriveCount).toBe(1);
    expect(record?.edits).toHaveLength(1);
    expect(record?.edits[0]).toMatchObject({ actor: 'carol', previousValue: original.value, previousHeaders: { source: 'checkout' } });
    expect(record?.attempts.map((a) => a.reason)).toEqual(['card declined']);

    // The limit here is 1 redrive: without force, refused and nothing moves.
    const depthBefore = await depth();
    await expectFailure(dlq.redrive({ ...queue, selection: { selection: { $case: 'refs', value: { refs: [refOf(again)] } } }, actor: 'carol' }), 'FAILED_PRECONDITION', 'force');
    // In a bulk redrive it is skipped, not an error.
    const dryAll = await dlq.redrive({ ...queue, selection: { selection: { $case: 'all', value: true } }, dryRun: true, actor: 'carol' });
    expect(dryAll[dryAll.length - 1]).toMatchObject({ total: depthBefore, redriven: depthBefore - 1, skipped: 1, done: true });
    expect(await depth()).toBe(depthBefore);

    stillFailing.delete(n);
    const processedBefore = billingProcessed.length;
    const forced = await dlq.redrive({ ...queue, selection: { selection: { $case: 'refs', value: { refs: [refOf(again)] } } }, force: true, actor: 'carol' });
    expect(forced[forced.length - 1]).toMatchObject({ total: 1, redriven: 1, skipped: 0, done: true });
    await expect.poll(() => billingProcessed.length, { timeout: 30_000, interval: 100 }).toBe(processedBefore + 1);
    expect(billingProcessed[processedBefore]).toMatchObject({ n, redriveCount: 2, value: newValue.toString() });
    expect(await depth()).toBe(depthBefore - 1);
  });

  it('refuses every mutating call without the admin token (UNAUTHENTICATED) and keeps reads open', async () => {
    const before = await depth();
    const auditBefore = (await dlq.listAudit({ pageSize: 1000 })).entries.length;
    const selection = { selection: { $case: 'all' as const, value: true } };
    for (const client of [dlq.withToken(undefined), dlq.withToken('wrong')]) {
      expect((await failure(client.redrive({ ...queue, selection }))).reason).toBe('UNAUTHENTICATED');
      expect((await failure(client.redrive({ ...queue, selection, dryRun: true }))).reason).toBe('UNAUTHENTICATED');
      expect((await failure(client.purge({ ...queue, selection }))).reason).toBe('UNAUTHENTICATED');
      expect((await failure(client.purge({ ...queue, selection, dryRun: true }))).reason).toBe('UNAUTHENTICATED');
      expect((await client.listQueues()).queues.length).toBeGreaterThan(0);
      expect((await client.listRecords({ ...queue })).totalMatching).toBe(before);
      expect((await client.listAudit()).entries.length).toBeGreaterThan(0);
    }
    expect(await depth()).toBe(before);
    expect((await dlq.listAudit({ pageSize: 1000 })).entries).toHaveLength(auditBefore);
  });

  it('records every mutating call in the audit log, newest first: who, what, how many, dry run or not', async () => {
    const { entries } = await dlq.listAudit({ pageSize: 1000 });
    const summary = entries.map((e) => [e.action, e.actor, e.dryRun, e.recordCount, e.outcome.split(':')[0]]);
    expect(summary).toEqual(
      [
        ['purge', 'alice', true, 2, 'ok'],
        ['purge', 'alice', false, 2, 'ok'],
        ['purge', 'alice', false, 0, 'failed'],
        ['purge', 'alice', false, 0, 'ok'],
        ['redrive', 'bob', true, 3, 'ok'],
        ['redrive', 'bob', false, 3, 'ok'],
        ['redrive', 'carol', false, 1, 'ok'],
        ['redrive', 'carol', false, 0, 'failed'],
        ['redrive', 'carol', true, records - 6, 'ok'],
        ['redrive', 'carol', false, 1, 'ok'],
      ].reverse(),
    );
    expect(entries.every((e) => e.topic === topic && e.subscription === 'billing' && e.finishedAtMs >= e.timeMs)).toBe(true);
    expect(entries.map((e) => e.id)).toEqual([...entries.map((e) => e.id)].sort((a, b) => b - a));
    expect(entries.find((e) => e.actor === 'carol' && e.selection.includes('edited value'))?.selection).toContain('edited headers');
    expect(entries.find((e) => e.outcome.startsWith('failed') && e.action === 'redrive')?.outcome).toContain('redrive limit');

    // Paged: the same entries, in pages of 3.
    const paged = [];
    let pageToken = '';
    do {
      const page = await dlq.listAudit({ pageSize: 3, pageToken });
      paged.push(...page.entries);
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(paged.map((e) => e.id)).toEqual(entries.map((e) => e.id));
    expect((await dlq.listAudit({ action: 'purge' })).entries).toHaveLength(4);
  });

  it('keeps removals, edits and the audit log across a dlq-admin restart', async () => {
    const before = await depth();
    const auditBefore = (await dlq.listAudit({ pageSize: 1000 })).entries;
    const listed = (await listAll()).records.map((l) => `${l.dlqPartition}/${l.dlqOffset}`).sort();
    await dlqAdmin.stop();
    dlqAdmin = await startDlqAdmin();
    dlq.close();
    dlq = new DlqAdminClient(dlqAdmin.address, token);
    expect(await depth()).toBe(before);
    expect((await listAll()).records.map((l) => `${l.dlqPartition}/${l.dlqOffset}`).sort()).toEqual(listed);
    expect((await dlq.listAudit({ pageSize: 1000 })).entries).toEqual(auditBefore);
  });
});
