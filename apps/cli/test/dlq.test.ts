// `braid dlq ...` against real coordinator, broker and dlq-admin processes
// (dlq-admin with BRAID_ADMIN_TOKEN and an alert webhook served by this
// test): subscription `billing` nacks records until their attempts run out
// (max 2) or rejects them, the broker dead-letters them, and the CLI lists
// queues and records (filtered, paged), shows one, refuses changes without
// the token, dry-runs, purges exactly a selection, edits and redrives one
// record and bulk-redrives at a rate (delivered to billing only, never to
// `audit`, which processed them already), manages an alert rule whose
// notices reach the webhook, and reads the audit log.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Jitter, Producer, StartPosition } from '@braid/client';
import type { Message } from '@braid/client';
import { runCli, startApp, startLocalCluster } from '@braid/testkit';
import type { AppProcess, LocalCluster } from '@braid/testkit';
import type { DeadLetterJson, DeadLetterSummaryJson } from '../src/dead-letter-format.js';
import type { AlertRuleJson } from '../src/dlq-admin-format.js';
import { runInProcess } from './memory-io.js';

const token = 'cli-test-token';
const member = 'dlq-test-member';
const retryPolicy = { maxAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 200, jitter: Jitter.JITTER_NONE };

let cluster: LocalCluster | undefined;
let dlqAdmin: AppProcess | undefined;
let admin: Admin;
let dataDir: string;
let webhook: Server;
let webhookUrl: string;
/** Bodies POSTed to the webhook. */
const notices: { state: string; value: number; rule: { id: string } | null; queue: { topic: string; subscription: string } }[] = [];
const consumers: Consumer[] = [];
const loops: Promise<void>[] = [];

/** Whether billing processes records now; until then it fails them. */
let billingAccepts = false;
/** What billing processed: key, value, headers. */
const billingProcessed: { key: string | undefined; value: string; headers: Readonly<Record<string, string>> }[] = [];
/** Keys (or `-`) of every record `audit` processed, in order. */
const auditProcessed: string[] = [];

function dlqAdminAddress(): string {
  if (!dlqAdmin) throw new Error('dlq-admin did not start');
  return dlqAdmin.address;
}

/** `braid --dlq-admin <dlq-admin> <args>` in-process, with the admin token and actor "alice" unless `env` says otherwise. */
const braid = (args: string[], env: Record<string, string> = {}) =>
  runInProcess(['--dlq-admin', dlqAdminAddress(), ...args], { env: { BRAID_ADMIN_TOKEN: token, BRAID_ACTOR: 'alice', ...env } });

const lines = (text: string): string[] => text.trimEnd().split('\n');
const json = <T>(text: string): T[] => lines(text).map((line) => JSON.parse(line) as T);

async function depth(): Promise<number> {
  const result = await braid(['dlq', 'list', 'payments', '--refresh', '--json']);
  if (result.code !== 0) throw new Error(result.stderr);
  if (result.stdout === '') return 0;
  return json<{ subscription: string; depth: number }>(result.stdout).find((q) => q.subscription === 'billing')?.depth ?? 0;
}

async function records(args: string[] = []): Promise<DeadLetterSummaryJson[]> {
  const result = await braid(['dlq', 'records', 'payments', '-s', 'billing', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return result.stdout === '' ? [] : json<DeadLetterSummaryJson>(result.stdout);
}

const refOf = (record: DeadLetterSummaryJson | undefined): string => `${record?.dlqPartition}:${record?.dlqOffset}`;

function consume(subscription: string, handle: (message: Message) => void): void {
  if (!cluster) throw new Error('cluster did not start');
  const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'payments', subscription, memberId: member });
  consumers.push(consumer);
  loops.push(
    (async () => {
      for await (const message of consumer) handle(message);
    })(),
  );
}

beforeAll(async () => {
  webhook = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof notices)[number]);
      response.statusCode = 204;
      response.end();
    });
  });
  webhook.listen(0, '127.0.0.1');
  await once(webhook, 'listening');
  const address = webhook.address();
  webhookUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/braid-alerts`;

  cluster = await startLocalCluster();
  dataDir = mkdtempSync(join(tmpdir(), 'braid-cli-dlq-'));
  dlqAdmin = await startApp('dlq-admin', {
    args: [
      '--data-dir', join(dataDir, 'dlq-admin'),
      '--broker', cluster.broker.address,
      '--http-port', '0',
      '--poll-interval-ms', '300',
      '--alert-interval-ms', '300',
      '--alert-webhook', webhookUrl,
    ],
    env: { BRAID_ADMIN_TOKEN: token },
  });
  admin = new Admin({ brokers: cluster.broker.address });
  await admin.createTopic('payments', { partitions: 2 });
  await admin.createSubscription('payments', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy });
  await admin.createSubscription('payments', 'audit', { startPosition: StartPosition.START_POSITION_EARLIEST });
}, 120_000);

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close({ timeoutMs: 2_000 })));
  await Promise.allSettled(loops);
  admin.close();
  await dlqAdmin?.stop();
  await cluster?.destroy();
  webhook.closeAllConnections();
  webhook.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('braid dlq against a real dlq-admin', () => {
  it('lists no queues before anything was dead-lettered (and reads BRAID_DLQ_ADMIN from the environment)', async () => {
    const result = await runCli(['dlq', 'list'], { env: { BRAID_DLQ_ADMIN: dlqAdminAddress() } });
    expect(result).toEqual({ code: 0, stdout: 'no dead-letter queues\n', stderr: '' });
  });

  it('lists the queue and its records, filtered and paged, as text and JSON', async () => {
    consume('audit', (message) => {
      auditProcessed.push(message.key?.toString() ?? '-');
      message.ack();
    });
    consume('billing', (message) => {
      const key = message.key?.toString();
      if (billingAccepts) {
        billingProcessed.push({ key, value: message.value.toString(), headers: message.headers });
        message.ack();
      } else if (key === 'user-1') message.nack({ reason: 'gateway timeout', errorClass: 'TimeoutError' });
      else if (key === 'user-2') message.reject('malformed payload', { errorClass: 'ParseError' });
      else if (key === 'user-3') message.ack();
      else message.reject(key?.startsWith('bulk-') ? 'bulk failure' : 'binary garbage');
    });
    if (!cluster) throw new Error('cluster did not start');
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('payments', [
      { key: 'user-1', value: '{"amount":42,"currency":"EUR"}', headers: { source: 'checkout' }, partition: 1 },
      { key: 'user-2', value: 'not json at all', partition: 0 },
      { value: Buffer.from([0xff, 0x00, 0x01]), partition: 0 },
      { key: 'user-3', value: 'fine', partition: 0 },
    ]);
    await producer.close();
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(3);

    const list = await braid(['dlq', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(lines(list.stdout)[0]).toMatch(/^TOPIC +SUBSCRIPTION +DEPTH +OLDEST +ARRIVALS_PER_MIN +DEAD_LETTER_TOPIC$/);
    expect(list.stdout).toMatch(/\npayments +billing +3 +\d+(ms|s|m\d\ds) +3 +payments\.billing\.dlq\n$/);

    const table = await braid(['dlq', 'records', 'payments', '--subscription', 'billing']);
    expect(table.code, table.stderr).toBe(0);
    expect(lines(table.stdout)).toHaveLength(4);
    const time = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    expect(table.stdout).toMatch(new RegExp(`\\n0 +[0-2] +1/0 +user-1 +2 +nack +TimeoutError +${time} +gateway timeout\\n`));
    expect(table.stdout).toMatch(new RegExp(`\\n0 +[0-2] +0/0 +user-2 +1 +reject +ParseError +${time} +malformed payload\\n`));
    expect(table.stdout).toMatch(new RegExp(`\\n0 +[0-2] +0/1 +- +1 +reject +- +${time} +binary garbage\\n`));

    const all = await records();
    expect(all.map((r) => r.key).sort()).toEqual(['user-1', 'user-2', null].sort());
    expect(all.find((r) => r.key === 'user-1')).toMatchObject({
      dlqTopic: 'payments.billing.dlq',
      origin: { topic: 'payments', partition: 1, offset: 0, subscription: 'billing' },
      attempts: 2,
      last: { disposition: 'nack', reason: 'gateway timeout', errorClass: 'TimeoutError' },
      redriveCount: 0,
    });

    // Filters, applied by dlq-admin.
    expect((await records(['--reason', 'timeout'])).map((r) => r.key)).toEqual(['user-1']);
    expect((await records(['--error-class', 'ParseError'])).map((r) => r.key)).toEqual(['user-2']);
    expect((await records(['--key', 'user-2'])).map((r) => r.key)).toEqual(['user-2']);
    expect((await records(['--min-attempts', '2'])).map((r) => r.key)).toEqual(['user-1']);
    expect((await records(['--contains', 'currency'])).map((r) => r.key)).toEqual(['user-1']);
    const future = await braid(['dlq', 'records', 'payments', '-s', 'billing', '--from', '2999-01-01T00:00:00Z']);
    expect(future).toEqual({ code: 0, stdout: 'no dead letters matching the filter for subscription billing on payments\n', stderr: '' });

    // Pages: the token for the next page goes to stderr.
    const first = await braid(['dlq', 'records', 'payments', '-s', 'billing', '--page-size', '2', '--json']);
    expect(lines(first.stdout)).toHaveLength(2);
    const next = /--page-token (\S+)\n$/.exec(first.stderr)?.[1];
    expect(first.stderr).toMatch(/^showing 2 of 3 matching dead letters; next page: --page-token \S+\n$/);
    const second = await braid(['dlq', 'records', 'payments', '-s', 'billing', '--page-size', '2', '--json', '--page-token', String(next)]);
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect([...json<DeadLetterSummaryJson>(first.stdout), ...json<DeadLetterSummaryJson>(second.stdout)].map(refOf).sort()).toEqual(all.map(refOf).sort());
  });

  it('shows one record whole, and answers NOT_FOUND for a record that is not in the queue', async () => {
    const user1 = (await records(['--key', 'user-1']))[0];
    const offset = String(user1?.dlqOffset);
    const show = await braid(['dlq', 'show', 'payments', '--subscription', 'billing', '--offset', offset]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Dead letter:    payments.billing.dlq partition 0 offset ${offset}\n`);
    expect(show.stdout).toContain('Origin:         payments partition 1 offset 0 (subscription billing)\n');
    expect(show.stdout).toContain('\nHeaders:\n  source: checkout\n');
    expect(show.stdout).toContain('\nValue (JSON, 30 bytes):\n  {\n    "amount": 42,\n    "currency": "EUR"\n  }\n');
    expect(show.stdout).toMatch(/\n {2}\S+ +\+[\d.]+m?s +attempt 2 {2}nack {2}member dlq-test-member {2}reason: gateway timeout {2}error class: TimeoutError\n/);

    const letter = JSON.parse((await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', offset, '--json'])).stdout) as DeadLetterJson;
    expect(letter).toMatchObject({ dlqTopic: 'payments.billing.dlq', key: 'user-1', value: { amount: 42, currency: 'EUR' }, valueEncoding: 'json', headers: { source: 'checkout' } });
    expect(letter.attempts.map((a) => [a.attempt, a.disposition, a.reason])).toEqual([[1, 'nack', 'gateway timeout'], [2, 'nack', 'gateway timeout']]);

    expect(await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', '99'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'NOT_FOUND: record 0/99 not in the dead-letter queue of subscription "billing" on topic "payments" (never there, purged or redriven)\n',
    });
    const unknown = await braid(['dlq', 'records', 'payments', '-s', 'nobody']);
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/^NOT_FOUND: .*nobody/);
  });

  it('refuses every change without the admin token (UNAUTHENTICATED, exit 1, with a hint) and records none of them', async () => {
    const before = (await braid(['dlq', 'audit', '--json'])).stdout;
    const changes = [
      ['dlq', 'redrive', 'payments', '-s', 'billing', '--all'],
      ['dlq', 'redrive', 'payments', '-s', 'billing', '--all', '--dry-run'],
      ['dlq', 'purge', 'payments', '-s', 'billing', '--all', '--yes'],
      ['dlq', 'alerts', 'create', 'payments', '-s', 'billing', '--depth-above', '1'],
      ['dlq', 'alerts', 'delete', 'whatever'],
    ];
    for (const args of changes) {
      const result = await braid(args, { BRAID_ADMIN_TOKEN: '' });
      expect(result, args.join(' ')).toEqual({
        code: 1,
        stdout: '',
        stderr:
          'UNAUTHENTICATED: this call changes dead-letter queues and needs the admin token: send "authorization: Bearer <token>"\n' +
          'hint: set BRAID_ADMIN_TOKEN to the token dlq-admin was started with\n',
      });
    }
    const wrong = await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--all', '--yes'], { BRAID_ADMIN_TOKEN: 'guess' });
    expect(wrong.stderr).toMatch(/^UNAUTHENTICATED: the admin token is wrong\n/);
    expect(await depth()).toBe(3);
    expect((await braid(['dlq', 'audit', '--json'])).stdout).toBe(before);
  });

  it('dry runs report what would move or go and change nothing', async () => {
    const all = await records();
    const redrive = await braid(['dlq', 'redrive', 'payments', '-s', 'billing', '--all', '--dry-run']);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(lines(redrive.stdout)[0]).toBe('dry run: would redrive 3 of 3 selected records of subscription billing on payments; nothing moved');
    expect(lines(redrive.stdout)[1]?.replace('records: ', '').split(' ').sort()).toEqual(all.map(refOf).sort());
    const purge = await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--older-than', '0s', '--dry-run', '--json']);
    expect(JSON.parse(purge.stdout)).toMatchObject({ dryRun: true, purged: 3 });
    expect(await depth()).toBe(3);
    expect(billingProcessed).toEqual([]);
  });

  it('purges exactly the selection, and only with --yes', async () => {
    const binary = (await records()).find((r) => r.key === null);
    const noYes = await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--offset', refOf(binary)]);
    expect(noYes).toEqual({ code: 2, stdout: '', stderr: 'error: purge deletes dead letters for good: add --yes (or see what would go with --dry-run)\n' });
    const purged = await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--offset', refOf(binary), '--yes']);
    expect(purged).toEqual({ code: 0, stdout: 'purged 1 dead letter of subscription billing on payments\n', stderr: '' });
    expect((await records()).map((r) => r.key).sort()).toEqual(['user-1', 'user-2']);
    // A record that is gone cannot be purged again.
    const again = await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--offset', refOf(binary), '--yes']);
    expect(again).toMatchObject({ code: 1, stderr: expect.stringMatching(/^NOT_FOUND: record \d+\/\d+ not in the dead-letter queue/) as unknown });
  });

  it('edits one record and redrives it to billing only, with the edit and the original headers', async () => {
    billingAccepts = true;
    const user2 = (await records(['--key', 'user-2']))[0];
    const file = join(dataDir, 'fixed.json');
    writeFileSync(file, '{"fixed":true}');
    const bulkEdit = await braid(['dlq', 'redrive', 'payments', '-s', 'billing', '--all', '--edit-header', 'a=b']);
    expect(bulkEdit.code).toBe(2);
    const result = await braid(['dlq', 'redrive', 'payments', '-s', 'billing', '--offset', refOf(user2), '--edit-value', file, '--edit-header', 'fixed-by=alice']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^redrove 1 of 1 selected record back to subscription billing on payments in [\d.]+s\n$/);
    await expect.poll(() => billingProcessed.map((p) => p.key), { timeout: 20_000 }).toEqual(['user-2']);
    expect(billingProcessed[0]).toMatchObject({ value: '{"fixed":true}', headers: { 'fixed-by': 'alice' } });
    expect((await records()).map((r) => r.key)).toEqual(['user-1']);
  });

  it('bulk-redrives a filter at a rate, printing progress and a summary; each record reaches billing once and audit never again', async () => {
    billingAccepts = false;
    if (!cluster) throw new Error('cluster did not start');
    const producer = new Producer({ brokers: cluster.broker.address });
    const bulk = Array.from({ length: 20 }, (_, i) => `bulk-${i}`);
    await producer.send('payments', bulk.map((key) => ({ key, value: `{"n":"${key}"}` })));
    await producer.close();
    await expect.poll(depth, { timeout: 30_000, interval: 200 }).toBe(21);
    await expect.poll(() => auditProcessed.filter((k) => k.startsWith('bulk-')).length, { timeout: 20_000 }).toBe(20);
    billingAccepts = true;

    const result = await braid(['dlq', 'redrive', 'payments', '-s', 'billing', '--reason', 'bulk failure', '--rate', '10']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^redrove 20 of 20 selected records back to subscription billing on payments in [\d.]+s\n$/);
    // 20 records at 10/s take about two seconds: dlq-admin reports progress every ~500 ms.
    expect(result.stderr).toMatch(/^(redrive: \d+\/20 redriven, 0 skipped\n)+$/);
    await expect.poll(() => billingProcessed.filter((p) => p.key?.startsWith('bulk-')).length, { timeout: 20_000 }).toBe(20);
    expect(billingProcessed.filter((p) => p.key?.startsWith('bulk-')).map((p) => p.key).sort()).toEqual([...bulk].sort());
    expect(auditProcessed.filter((k) => k.startsWith('bulk-'))).toHaveLength(20);
    expect((await records()).map((r) => r.key)).toEqual(['user-1']);
  });

  it('manages an alert rule whose firing and resolved notices reach the webhook', async () => {
    const noCondition = await braid(['dlq', 'alerts', 'create', 'payments', '-s', 'billing']);
    expect(noCondition).toEqual({ code: 2, stdout: '', stderr: 'error: choose exactly one condition: --depth-above <n>, --arrivals-above <n> or --oldest-above <duration>\n' });
    const badHook = await braid(['dlq', 'alerts', 'create', 'payments', '-s', 'billing', '--depth-above', '0', '--webhook', 'ftp://x']);
    expect(badHook).toEqual({ code: 1, stdout: '', stderr: 'INVALID_ARGUMENT: webhooks[0] must be an http or https URL, got "ftp://x"\n' });

    const created = await braid(['dlq', 'alerts', 'create', 'payments', '-s', 'billing', '--depth-above', '0', '--description', 'billing DLQ not empty', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const rule = JSON.parse(created.stdout) as AlertRuleJson;
    expect(rule).toMatchObject({ topic: 'payments', subscription: 'billing', metric: 'depth', threshold: 0, clearThreshold: 0, forMs: 0, createdBy: 'alice', description: 'billing DLQ not empty' });

    // user-1 is still in the queue: the rule fires at the next check, once.
    await expect.poll(() => notices.map((n) => n.state), { timeout: 20_000 }).toEqual(['firing']);
    expect(notices[0]).toMatchObject({ rule: { id: rule.id }, queue: { topic: 'payments', subscription: 'billing' }, value: 1 });
    const list = await braid(['dlq', 'alerts', 'list']);
    expect(list.stdout).toMatch(new RegExp(`\\n${rule.id} +payments/billing +depth > 0 +firing +1 +\\S+ +1 +0 +billing DLQ not empty\\n$`));

    await braid(['dlq', 'purge', 'payments', '-s', 'billing', '--all', '--yes']);
    await expect.poll(() => notices.map((n) => n.state), { timeout: 20_000 }).toEqual(['firing', 'resolved']);
    // The webhook got the notice a moment before dlq-admin saw its answer: wait for the count.
    await expect.poll(async () => (await braid(['dlq', 'alerts', 'events'])).stdout, { timeout: 10_000 }).toMatch(/notices sent: 2, failed: 0, retried POSTs: 0, pending: 0;/);
    const events = await braid(['dlq', 'alerts', 'events']);
    expect(lines(events.stdout)[0]).toMatch(/^ID +TIME +RULE +QUEUE +STATE +VALUE +THRESHOLD +WEBHOOKS +REASON$/);
    expect(events.stdout).toMatch(new RegExp(`\\n2 +\\S+ +${rule.id} +payments/billing +resolved +0 +0 +1 delivered +depth 0 <= 0\\n`));
    expect(events.stdout).toMatch(new RegExp(`\\n1 +\\S+ +${rule.id} +payments/billing +firing +1 +0 +1 delivered +depth 1 > 0\\n`));
    expect(lines(events.stdout).at(-1)).toMatch(/^firing rules: 0; notices sent: 2, failed: 0, retried POSTs: 0, pending: 0; last check: \S+$/);

    expect(await braid(['dlq', 'alerts', 'delete', rule.id])).toEqual({ code: 0, stdout: `deleted alert rule ${rule.id}: depth > 0 on payments/billing\n`, stderr: '' });
    expect(await braid(['dlq', 'alerts', 'list'])).toEqual({ code: 0, stdout: 'no alert rules\n', stderr: '' });
    expect(await braid(['dlq', 'alerts', 'delete', rule.id])).toEqual({ code: 1, stdout: '', stderr: `NOT_FOUND: no alert rule with id "${rule.id}"\n` });
  });

  it('prints the audit log: who did what, to which records, dry run or not, and how it ended', async () => {
    const entries = json<{ action: string; actor: string; dryRun: boolean; recordCount: number; outcome: string; topic: string; selection: string }>(
      (await braid(['dlq', 'audit', '--json'])).stdout,
    );
    // Newest first. Calls refused before they started (no token, bad input) are not in it; calls that failed are.
    expect(entries.map((e) => [e.action, e.dryRun, e.recordCount, e.outcome])).toEqual([
      ['delete-alert-rule', false, 0, expect.stringMatching(/^failed: no alert rule with id/) as unknown],
      ['delete-alert-rule', false, 0, 'ok'],
      ['purge', false, 1, 'ok'],
      ['create-alert-rule', false, 0, 'ok'],
      ['redrive', false, 20, 'ok'],
      ['redrive', false, 1, 'ok'],
      ['purge', false, 0, expect.stringMatching(/^failed: record \d+\/\d+ not in the dead-letter queue/) as unknown],
      ['purge', false, 1, 'ok'],
      ['purge', true, 3, 'ok'],
      ['redrive', true, 3, 'ok'],
    ]);
    expect(entries.every((e) => e.actor === 'alice')).toBe(true);
    const table = await braid(['dlq', 'audit', '--action', 'redrive']);
    expect(lines(table.stdout)[0]).toMatch(/^ID +TIME +ACTOR +ACTION +QUEUE +RECORDS +SKIPPED +DRY_RUN +OUTCOME +SELECTION$/);
    expect(table.stdout).toMatch(/\n\d+ +\S+ +alice +redrive +payments\/billing +20 +0 +no +ok +filter reason~"bulk failure", at 10\/s\n/);
  });

  it('points `dlq list <topic> -s S` (the records listing before dlq-admin) to `dlq records`', async () => {
    expect(await braid(['dlq', 'list', 'payments', '-s', 'billing'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'error: `braid dlq list` lists queues; for the records of one, use `braid dlq records payments --subscription billing`\n',
    });
  });
});
