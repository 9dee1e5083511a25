// `braid dlq list` and `braid dlq show` against real coordinator and broker
// processes: records are nacked until their attempts run out (max 2) or
// rejected by an SDK consumer, the broker dead-letters them, and the CLI
// reads the dead-letter topic (through AdminService.ReadRecords) and prints
// origin, key, headers, value and the attempt ledger, as text and as JSON.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Jitter, Producer, StartPosition } from '@braid/client';
import type { Message } from '@braid/client';
import { runCli, startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import type { DeadLetterJson, DeadLetterSummaryJson } from '../src/dead-letter-format.js';

let cluster: LocalCluster | undefined;
let admin: Admin;

function brokerAddress(): string {
  if (!cluster) throw new Error('cluster did not start');
  return cluster.broker.address;
}

const braid = (args: string[]) => runCli(['--broker', brokerAddress(), ...args]);

const member = 'dlq-test-member';
const retryPolicy = { maxAttempts: 2, initialBackoffMs: 100, maxBackoffMs: 200, jitter: Jitter.JITTER_NONE };

/** Consumes `topic` as `subscription` until `deadLetters` records sit in its dead-letter topic, settling each with `settle`. */
async function consumeUntilDeadLettered(
  topic: string,
  subscription: string,
  dlqTopic: string,
  deadLetters: number,
  settle: (message: Message) => void,
): Promise<void> {
  const consumer = new Consumer({ brokers: brokerAddress(), topic, subscription, memberId: member });
  const running = (async () => {
    for await (const message of consumer) settle(message);
  })();
  try {
    await expect
      .poll(
        async () => {
          if (!(await admin.listTopics()).some((t) => t.name === dlqTopic)) return 0;
          return (await admin.readRecords(dlqTopic, 0)).highWatermark;
        },
        { timeout: 30_000, interval: 100 },
      )
      .toBe(deadLetters);
  } finally {
    await consumer.close({ timeoutMs: 2_000 });
    await running;
  }
}

beforeAll(async () => {
  cluster = await startLocalCluster();
  admin = new Admin({ brokers: brokerAddress() });
  await admin.createTopic('payments', { partitions: 2 });
  await admin.createSubscription('payments', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy });
  await admin.createSubscription('payments', 'audit', {
    startPosition: StartPosition.START_POSITION_EARLIEST,
    retryPolicy,
    deadLetterTopic: 'payments-poison',
  });
  const producer = new Producer({ brokers: brokerAddress() });
  await producer.send('payments', [
    { key: 'user-1', value: '{"amount":42,"currency":"EUR"}', headers: { source: 'checkout' }, partition: 1 },
    { key: 'user-2', value: 'not json at all', partition: 0 },
    { value: Buffer.from([0xff, 0x00, 0x01]), partition: 0 },
    { key: 'user-3', value: 'fine', partition: 0 },
  ]);
  await producer.close();
}, 120_000);

afterAll(async () => {
  admin.close();
  await cluster?.destroy();
});

describe('braid dlq against a real broker', () => {
  it('says there are no dead letters while the dead-letter topic does not exist', async () => {
    expect(await braid(['dlq', 'list', 'payments', '--subscription', 'billing'])).toEqual({
      code: 0,
      stdout: 'no dead letters for subscription billing on payments (dead-letter topic payments.billing.dlq does not exist yet)\n',
      stderr: '',
    });
    // --json keeps stdout for JSON: the note goes to stderr.
    const json = await braid(['dlq', 'list', 'payments', '-s', 'billing', '--json']);
    expect(json).toMatchObject({ code: 0, stdout: '' });
    expect(json.stderr).toContain('no dead letters for subscription billing on payments');
    const show = await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', '0']);
    expect(show).toEqual({
      code: 1,
      stdout: '',
      stderr: 'NOT_FOUND: subscription billing on payments has no dead letters: its dead-letter topic payments.billing.dlq does not exist\n',
    });
  });

  it('lists and shows dead letters of nacked (attempts used up) and rejected records, as text and JSON', async () => {
    await consumeUntilDeadLettered('payments', 'billing', 'payments.billing.dlq', 3, (message) => {
      const key = message.key?.toString();
      if (key === 'user-1') message.nack({ reason: 'gateway timeout', errorClass: 'TimeoutError' });
      else if (key === 'user-2') message.reject('malformed payload', { errorClass: 'ParseError' });
      else if (key === undefined) message.reject('binary garbage');
      else message.ack();
    });

    const list = await braid(['dlq', 'list', 'payments', '--subscription', 'billing']);
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PARTITION +OFFSET +ORIGIN +KEY +ATTEMPTS +LAST +ERROR_CLASS +DEAD_LETTERED +REASON$/);
    expect(lines).toHaveLength(4);
    const time = '\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z';
    expect(list.stdout).toMatch(new RegExp(`\\n0 +[0-2] +1/0 +user-1 +2 +nack +TimeoutError +${time} +gateway timeout\\n`));
    expect(list.stdout).toMatch(new RegExp(`\\n0 +[0-2] +0/0 +user-2 +1 +reject +ParseError +${time} +malformed payload\\n`));
    expect(list.stdout).toMatch(new RegExp(`\\n0 +[0-2] +0/1 +- +1 +reject +- +${time} +binary garbage\\n`));

    const json = await braid(['dlq', 'list', 'payments', '-s', 'billing', '--json']);
    expect(json.code).toBe(0);
    const summaries = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as DeadLetterSummaryJson);
    const byKey = new Map(summaries.map((s) => [s.key, s]));
    expect(byKey.get('user-1')).toMatchObject({
      dlqTopic: 'payments.billing.dlq',
      dlqPartition: 0,
      origin: { topic: 'payments', partition: 1, offset: 0, subscription: 'billing' },
      keyEncoding: 'text',
      attempts: 2,
      last: { disposition: 'nack', reason: 'gateway timeout', errorClass: 'TimeoutError' },
      redriveCount: 0,
    });
    expect(byKey.get(null)).toMatchObject({ origin: { partition: 0, offset: 1 }, attempts: 1, last: { disposition: 'reject', reason: 'binary garbage' } });
    expect(summaries.map((s) => s.dlqOffset).sort()).toEqual([0, 1, 2]);

    const limited = await braid(['dlq', 'list', 'payments', '-s', 'billing', '--limit', '1']);
    expect(limited.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(limited.stderr).toBe('showing the first 1 dead letters of payments.billing.dlq; there are more (--limit)\n');

    // The whole dead letter of user-1: JSON value pretty-printed, headers, and the ledger as a timeline.
    const offset = String(byKey.get('user-1')?.dlqOffset);
    const show = await braid(['dlq', 'show', 'payments', '--subscription', 'billing', '--offset', offset]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`Dead letter:    payments.billing.dlq partition 0 offset ${offset}\n`);
    expect(show.stdout).toContain('Origin:         payments partition 1 offset 0 (subscription billing)\n');
    expect(show.stdout).toContain('Key:            user-1\n');
    expect(show.stdout).toContain('Attempts:       2\n');
    expect(show.stdout).toContain('\nHeaders:\n  source: checkout\n');
    expect(show.stdout).toContain('\nValue (JSON, 30 bytes):\n  {\n    "amount": 42,\n    "currency": "EUR"\n  }\n');
    expect(show.stdout).toMatch(new RegExp(`\\nTimeline:\\n  ${time} +published\\n`));
    expect(show.stdout).toMatch(new RegExp(`\\n  ${time}  \\+[\\d.]+m?s +attempt 1  nack  member ${member}  reason: gateway timeout  error class: TimeoutError\\n`));
    expect(show.stdout).toMatch(new RegExp(`\\n  ${time}  \\+[\\d.]+m?s +attempt 2  nack  member ${member}  reason: gateway timeout  error class: TimeoutError\\n`));
    expect(show.stdout).toMatch(new RegExp(`\\n  ${time}  \\+[\\d.]+m?s +dead-lettered\\n$`));

    const showJson = await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', offset, '--json']);
    expect(showJson.code).toBe(0);
    const letter = JSON.parse(showJson.stdout) as DeadLetterJson;
    expect(letter).toMatchObject({
      dlqTopic: 'payments.billing.dlq',
      dlqOffset: Number(offset),
      origin: { topic: 'payments', partition: 1, offset: 0, subscription: 'billing' },
      key: 'user-1',
      headers: { source: 'checkout' },
      value: { amount: 42, currency: 'EUR' },
      valueEncoding: 'json',
      edits: [],
    });
    expect(letter.attempts.map((a) => [a.attempt, a.disposition, a.memberId, a.reason, a.errorClass])).toEqual([
      [1, 'nack', member, 'gateway timeout', 'TimeoutError'],
      [2, 'nack', member, 'gateway timeout', 'TimeoutError'],
    ]);
    // The retry waited for the backoff (100 ms, no jitter) between the two attempts.
    const [first, second] = letter.attempts.map((a) => Date.parse(a.time));
    expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(90);
    expect(Date.parse(letter.deadLetteredAt)).toBeGreaterThanOrEqual(second ?? 0);

    // A text value prints as text, a binary one as base64.
    const text = JSON.parse((await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', String(byKey.get('user-2')?.dlqOffset), '--json'])).stdout) as DeadLetterJson;
    expect(text).toMatchObject({ value: 'not json at all', valueEncoding: 'text', attempts: [{ disposition: 'reject', reason: 'malformed payload', errorClass: 'ParseError' }] });
    const binary = await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', String(byKey.get(null)?.dlqOffset)]);
    expect(binary.stdout).toContain('Key:            -\n');
    expect(binary.stdout).toContain('\nValue (base64, 3 bytes):\n  /wAB\n');
  });

  it('answers NOT_FOUND for an offset that holds no dead letter and INVALID_ARGUMENT for a partition out of range', async () => {
    expect(await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', '99'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'NOT_FOUND: no dead letter at offset 99 of payments.billing.dlq partition 0: it holds offsets 0-2\n',
    });
    const partition = await braid(['dlq', 'show', 'payments', '-s', 'billing', '--offset', '0', '--partition', '3']);
    expect(partition).toMatchObject({ code: 1, stdout: '' });
    expect(partition.stderr).toBe('INVALID_ARGUMENT: partition 3 out of range for topic "payments.billing.dlq" with 1 partitions (valid: 0-0)\n');
    const noOffset = await braid(['dlq', 'show', 'payments', '-s', 'billing']);
    expect(noOffset.code).toBe(2);
    expect(noOffset.stderr).toContain("required option '--offset <n>' not specified");
  });

  it('reads the dead-letter topic a subscription names (only its own dead letters), and the dead-letter topic is an ordinary, consumable topic', async () => {
    await consumeUntilDeadLettered('payments', 'audit', 'payments-poison', 4, (message) => { message.reject('audit refuses everything'); });
    const list = await braid(['dlq', 'list', 'payments', '-s', 'audit']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/ +/).slice(2, 6))).toEqual(
      expect.arrayContaining([
        ['1/0', 'user-1', '1', 'reject'],
        ['0/0', 'user-2', '1', 'reject'],
        ['0/1', '-', '1', 'reject'],
        ['0/2', 'user-3', '1', 'reject'],
      ]),
    );
    // A subscription sharing that dead-letter topic lists only its own dead letters (none).
    await admin.createSubscription('payments', 'refunds', { deadLetterTopic: 'payments-poison' });
    expect(await braid(['dlq', 'list', 'payments', '-s', 'refunds'])).toEqual({
      code: 0,
      stdout: 'no dead letters for subscription refunds on payments (the 4 dead letters in payments-poison came from other subscriptions)\n',
      stderr: '',
    });
    // The other subscription's dead letters are where they were, untouched by reading them.
    expect((await braid(['dlq', 'list', 'payments', '-s', 'billing'])).stdout.trimEnd().split('\n')).toHaveLength(4);

    const consumed = await braid(['consume', 'payments-poison', '-s', 'inspect', '--from', 'earliest', '--max', '4', '--json']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const headers = consumed.stdout.trimEnd().split('\n').map((line) => (JSON.parse(line) as { headers: Record<string, string> }).headers['braid-dlq-origin']);
    expect(headers.sort()).toEqual(['payments/0/0/audit', 'payments/0/1/audit', 'payments/0/2/audit', 'payments/1/0/audit']);
  });
});
