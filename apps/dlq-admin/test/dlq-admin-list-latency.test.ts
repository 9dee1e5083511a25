// ListDeadLetters over gRPC with 100,000 dead letters (issue 7's figure:
// "record-list API latency p99 with 100,000 dead-lettered records and a
// filter"). The dead-letter topic is filled directly with records shaped
// as the broker writes them (a `DeadLetter` value and the
// `braid-dlq-origin` header), which is far quicker than failing 100,000
// deliveries; dlq-admin indexes them like any other. Prints p50/p99 per
// filter; asserts the totals, not the times.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Producer, deadLetterOriginHeader } from '@braid/client';
import { DeadLetter, DeadLetterFilter, Disposition, Durability } from '@braid/proto';
import { startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import { DlqAdminClient } from './dlq-admin-client.js';

const records = 100_000;
const topic = 'big';
const subscription = 'sink';
const dlqTopic = `${topic}.${subscription}.dlq`;

let cluster: LocalCluster;
let admin: Admin;
let producer: Producer;
let dataDir: string;
let dlqAdmin: AppProcess;
let dlq: DlqAdminClient;

beforeAll(async () => {
  cluster = await startLocalCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'braid-dlq-admin-latency-'));
  admin = new Admin({ brokers: cluster.broker.address });
  producer = new Producer({ brokers: cluster.broker.address });
  await admin.createTopic(topic, { partitions: 4, durability: Durability.DURABILITY_WRITE });
  await admin.createSubscription(topic, subscription);
  await admin.createTopic(dlqTopic, { partitions: 4, durability: Durability.DURABILITY_WRITE });
  const started = performance.now();
  const now = Date.now();
  for (let start = 0; start < records; start += 5_000) {
    await producer.send(
      dlqTopic,
      Array.from({ length: 5_000 }, (_, i) => {
        const n = start + i;
        const key = Buffer.from(`user-${n % 1000}`);
        const letter = DeadLetter.fromPartial({
          origin: { topic, partition: n % 4, offset: Math.floor(n / 4), subscription, key },
          value: Buffer.from(JSON.stringify({ n, note: n % 1000 === 0 ? 'needle' : 'x'.repeat(200) })),
          headers: { source: 'bench' },
          attempts: Array.from({ length: 1 + (n % 5) }, (__, a) => ({
            attempt: a + 1,
            timeMs: now,
            memberId: 'm-1',
            disposition: Disposition.DISPOSITION_NACK,
            reason: n % 10 === 0 ? 'timeout talking to smtp' : 'mailbox full',
            errorClass: n % 10 === 0 ? 'TimeoutError' : 'MailboxFullError',
          })),
          deadLetteredAtMs: now - records + n,
          publishTimeMs: now - records,
        });
        return {
          key,
          value: Buffer.from(DeadLetter.encode(letter).finish()),
          headers: { source: 'bench', [deadLetterOriginHeader]: `${topic}/${n % 4}/${Math.floor(n / 4)}/${subscription}` },
        };
      }),
    );
  }
  console.log(`published ${records} dead letters in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  dlqAdmin = await startApp('dlq-admin', { args: ['--data-dir', dataDir, '--broker', cluster.broker.address] });
  dlq = new DlqAdminClient(dlqAdmin.address);
  const indexing = performance.now();
  await dlq.listQueues({ refresh: true });
  console.log(`dlq-admin indexed ${records} dead letters in ${((performance.now() - indexing) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  dlq.close();
  await producer.close();
  admin.close();
  await dlqAdmin.kill9();
  await cluster.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ListDeadLetters with 100,000 records', () => {
  it.each([
    ['no filter', {}, records],
    ['error class', { errorClass: 'TimeoutError' }, records / 10],
    ['reason + attempts', { reason: 'mailbox', minAttempts: 4 }, (records * 4) / 10],
    ['key', { key: Buffer.from('user-7') }, records / 1000],
    ['text in the value', { valueContains: 'needle' }, records / 1000],
  ] as const)('lists the first page of 50 with a filter on %s (prints p50/p99)', async (name, filter, expected) => {
    const timings: number[] = [];
    for (let round = 0; round < 50; round++) {
      const started = performance.now();
      const page = await dlq.listRecords({ topic, subscription, filter: DeadLetterFilter.fromPartial(filter), pageSize: 50 });
      timings.push(performance.now() - started);
      expect(page.totalMatching).toBe(expected);
      expect(page.records).toHaveLength(Math.min(50, expected));
    }
    const first = timings[0] ?? 0;
    timings.sort((a, b) => a - b);
    const at = (q: number): string => (timings[Math.min(timings.length - 1, Math.floor(q * timings.length))] ?? 0).toFixed(1);
    console.log(`ListDeadLetters, ${records} records, filter on ${name}: first call ${first.toFixed(1)} ms, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (50 calls)`);
  });

  it('pages through 10,000 matches in pages of 1,000 (prints the time per page)', async () => {
    let pageToken = '';
    let seen = 0;
    const started = performance.now();
    let pages = 0;
    do {
      const page = await dlq.listRecords({ topic, subscription, filter: { errorClass: 'TimeoutError' }, pageSize: 1000, pageToken });
      seen += page.records.length;
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== '');
    expect(seen).toBe(records / 10);
    console.log(`paged through ${seen} matches in ${pages} pages of 1,000: ${((performance.now() - started) / pages).toFixed(1)} ms per page`);
  });
});
