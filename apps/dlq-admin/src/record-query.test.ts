// RecordQuery over a real store in a temporary directory: filters, paging
// with tokens, value search, and the list latency with 100,000 records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeadLetter, DeadLetterFilter, Disposition } from '@braid/proto';
import { compileFilter } from './dead-letter-filter.js';
import { DlqStore } from './dlq-store.js';
import { QueueIndex } from './queue-index.js';
import { RecordQuery } from './record-query.js';
import { summarize } from './record-summary.js';

const records = 100_000;
const partitions = 4;
const topic = 'orders.audit.dlq';
let dir: string;
let store: DlqStore;
let queue: QueueIndex;

function letter(n: number): DeadLetter {
  const partition = n % partitions;
  return DeadLetter.fromPartial({
    dlqPartition: partition,
    dlqOffset: Math.floor(n / partitions),
    origin: { topic: 'orders', partition, offset: n, subscription: 'audit', key: Buffer.from(`user-${n % 1000}`) },
    value: Buffer.from(JSON.stringify({ order: n, note: n % 997 === 0 ? 'needle in here' : 'x'.repeat(200) })),
    headers: { n: String(n) },
    attempts: Array.from({ length: 1 + (n % 5) }, (_, i) => ({
      attempt: i + 1,
      timeMs: 1_000 + n,
      memberId: 'm',
      disposition: Disposition.DISPOSITION_NACK,
      reason: n % 10 === 0 ? 'timeout talking to smtp' : 'mailbox full',
      errorClass: n % 10 === 0 ? 'TimeoutError' : 'MailboxFullError',
    })),
    deadLetteredAtMs: 1_000_000 + n,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'braid-dlq-query-'));
  store = await DlqStore.open(dir);
  queue = new QueueIndex('orders', 'audit', topic);
  for (let start = 0; start < records; start += 10_000) {
    for (let partition = 0; partition < partitions; partition++) {
      const batch = [];
      for (let n = start + partition; n < start + 10_000; n += partitions) batch.push({ letter: letter(n) });
      await store.append(topic, partition, batch, 0);
      for (const { letter: l } of batch) queue.add(summarize(l));
    }
  }
}, 120_000);

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RecordQuery', () => {
  it('pages through every match once, oldest first, with a stable total', async () => {
    const query = new RecordQuery(store);
    const filter = compileFilter(DeadLetterFilter.fromPartial({ errorClass: 'TimeoutError' }));
    const seen: number[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await query.page(queue, filter, 1000, token);
      expect(page.totalMatching).toBe(records / 10);
      seen.push(...page.records.map((s) => s.deadLetteredAtMs - 1_000_000));
      token = page.nextPageToken;
      pages++;
    } while (token !== '');
    expect(pages).toBe(10);
    expect(seen).toEqual(Array.from({ length: records / 10 }, (_, i) => i * 10));
  });

  it('keeps paging right while records before the page are removed', async () => {
    const query = new RecordQuery(store);
    const filter = compileFilter(undefined);
    const first = await query.page(queue, filter, 3, '');
    const removable = new QueueIndex('orders', 'audit', topic);
    for (const s of queue.live()) removable.add({ ...s });
    const firstAgain = await query.page(removable, filter, 3, '');
    removable.remove(firstAgain.records);
    const second = await query.page(removable, filter, 3, first.nextPageToken.replace(/x/g, 'x'));
    expect(second.records.map((s) => s.deadLetteredAtMs)).toEqual([1_000_003, 1_000_004, 1_000_005]);
    expect(second.totalMatching).toBe(records - 3);
  });

  it('finds text in values from the store, by scan and by point reads', async () => {
    const query = new RecordQuery(store);
    const scanned = await query.matches(queue, compileFilter(DeadLetterFilter.fromPartial({ valueContains: 'needle' })));
    const expected = Array.from({ length: records }, (_, n) => n).filter((n) => n % 997 === 0);
    expect(scanned.map((s) => s.deadLetteredAtMs - 1_000_000)).toEqual(expected);
    const pointRead = await query.matches(queue, compileFilter(DeadLetterFilter.fromPartial({ valueContains: 'needle', key: Buffer.from('user-0') })));
    expect(pointRead.map((s) => s.deadLetteredAtMs - 1_000_000)).toEqual(expected.filter((n) => n % 1000 === 0));
  });

  it('lists a filtered page of 100,000 records quickly (prints p50/p99)', async () => {
    const filters = [
      DeadLetterFilter.fromPartial({ reason: 'timeout' }),
      DeadLetterFilter.fromPartial({ minAttempts: 4, errorClass: 'MailboxFullError' }),
      DeadLetterFilter.fromPartial({ key: Buffer.from('user-7') }),
    ];
    const timings: number[] = [];
    for (let round = 0; round < 30; round++) {
      // A new query object and a changing queue each round: no cached result.
      const query = new RecordQuery(store);
      const filter = compileFilter(filters[round % filters.length]);
      const started = performance.now();
      const page = await query.page(queue, filter, 50, '');
      await store.getMany(topic, page.records);
      timings.push(performance.now() - started);
      expect(page.records.length).toBe(50);
    }
    timings.sort((a, b) => a - b);
    const p = (q: number): string => (timings[Math.min(timings.length - 1, Math.floor(q * timings.length))] ?? 0).toFixed(1);
    console.log(`list page of 50 from 100,000 records with a summary filter, uncached: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);
    const valueQuery = new RecordQuery(store);
    const started = performance.now();
    await valueQuery.page(queue, compileFilter(DeadLetterFilter.fromPartial({ valueContains: 'needle' })), 50, '');
    console.log(`list with "text in the value" over 100,000 records, uncached: ${(performance.now() - started).toFixed(1)} ms`);
  });
});
