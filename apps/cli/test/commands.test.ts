// In-process tests of `braid topic` and `braid produce` against the SDK's
// fake broker (`@braid/client/testing`): parsing, output and exit codes.
// The same commands against real broker and coordinator processes are in
// topic-produce.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeBroker } from '@braid/client/testing';
import { InvalidArgumentError } from '@braid/core';
import { freePort } from '@braid/testkit';
import { runInProcess } from './memory-io.js';

let broker: FakeBroker;

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(() => {
  broker.stop();
});

const run = (args: string[], stdin?: string) => runInProcess(['--broker', broker.address, ...args], { stdin });

describe('braid topic', () => {
  it('creates a topic with every setting', async () => {
    const result = await run(['topic', 'create', 'orders', '--partitions', '8', '--retention-ms', '86400000', '--retention-bytes', '1000000', '--durability', 'write', '--max-record-bytes', '2048']);
    expect(result).toEqual({ code: 0, stdout: 'created topic orders (8 partitions, durability write)\n', stderr: '' });
    expect((await run(['topic', 'list'])).stdout).toBe(
      'NAME    PARTITIONS  DURABILITY  RETENTION_MS  RETENTION_BYTES  MAX_RECORD_BYTES\n' +
        'orders  8           write       86400000      1000000          2048\n',
    );
  });

  it('takes the broker from BRAID_BROKER', async () => {
    broker.createTopic('a');
    const result = await runInProcess(['topic', 'list'], { env: { BRAID_BROKER: broker.address } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('a  ');
  });

  it('describes a topic: settings and partitions', async () => {
    broker.createTopic('orders', { partitions: 2 });
    broker.setLeader('orders', 1, broker.address, 4);
    const result = await run(['topic', 'describe', 'orders']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Topic: +orders\n/);
    expect(result.stdout).toContain('Durability:        fsync\n');
    expect(result.stdout).toContain('Retention ms:      forever\n');
    expect(result.stdout).toContain('PARTITION  LEADER  ADDRESS');
    expect(result.stdout).toMatch(new RegExp(`\\n1 +fake-1 +${broker.address.replace(/\./g, '\\.')} +4 +AVAILABLE +0\\n`));
  });

  it('deletes a topic', async () => {
    broker.createTopic('gone');
    expect(await run(['topic', 'delete', 'gone'])).toMatchObject({ code: 0, stdout: 'deleted topic gone\n' });
    expect((await run(['topic', 'list'])).stdout).not.toContain('gone');
  });

  it('prints the gRPC status and message of a failed call and exits 1', async () => {
    broker.createTopic('dup');
    expect(await run(['topic', 'create', 'dup', '--partitions', '1'])).toEqual({ code: 1, stdout: '', stderr: 'ALREADY_EXISTS: topic "dup" already exists\n' });
    expect(await run(['topic', 'describe', 'nope'])).toEqual({ code: 1, stdout: '', stderr: 'NOT_FOUND: topic "nope" does not exist\n' });
  });

  it('reports an unreachable broker as UNAVAILABLE', async () => {
    const port = await freePort();
    const result = await runInProcess(['--broker', `127.0.0.1:${port}`, 'topic', 'list', '--timeout', '3000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^(UNAVAILABLE|DEADLINE_EXCEEDED): /);
  });

  it.each([
    [['topic', 'create', 'x'], /required option '--partitions <n>'/],
    [['topic', 'create', 'x', '--partitions', '0'], /--partitions.*1-4096/],
    [['topic', 'create', 'x', '--partitions', 'many'], /--partitions.*1-4096/],
    [['topic', 'create', 'x', '--partitions', '1', '--durability', 'sometimes'], /Allowed choices are fsync, write/],
    [['topic', 'create', 'x', '--partitions', '1', '--retention-ms', '-5'], /--retention-ms/],
    [['topic', 'describe'], /missing required argument 'name'/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});

describe('braid produce', () => {
  it('publishes each stdin line as a record and prints how many were acknowledged', async () => {
    broker.createTopic('events');
    const result = await run(['produce', 'events'], 'one\ntwo\n\nthree\n');
    expect(result).toEqual({ code: 0, stdout: '4 records acknowledged\n', stderr: '' });
    expect(broker.log('events', 0).map((r) => [r.key, r.value])).toEqual([
      [undefined, 'one'],
      [undefined, 'two'],
      [undefined, ''],
      [undefined, 'three'],
    ]);
  });

  it('splits key and value at the first --key-sep and adds every --header', async () => {
    broker.createTopic('events', { partitions: 4 });
    const result = await run(['produce', 'events', '--key-sep', ':', '--header', 'source=cli', '--header', 'trace=a=b'], 'user-1:a:1\nuser-2:b\nuser-1:c\n');
    expect(result.stdout).toBe('3 records acknowledged\n');
    const records = broker.logs('events').flat();
    expect(records.map((r) => [r.key, r.value]).sort()).toEqual([
      ['user-1', 'a:1'],
      ['user-1', 'c'],
      ['user-2', 'b'],
    ]);
    expect(records[0]?.headers).toEqual({ source: 'cli', trace: 'a=b' });
    const user1 = broker.logs('events').find((log) => log.some((r) => r.key === 'user-1')) ?? [];
    expect(user1.filter((r) => r.key === 'user-1').map((r) => r.value)).toEqual(['a:1', 'c']);
  });

  it('prints each partition and offset in input order with --verbose', async () => {
    broker.createTopic('events', { partitions: 3 });
    const result = await run(['produce', 'events', '--verbose', '--key', 'k'], 'a\nb\nc\n');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const partition = lines[0]?.match(/^partition=(\d) offset=0$/)?.[1];
    expect(partition).toBeDefined();
    expect(lines.slice(0, 3)).toEqual([0, 1, 2].map((o) => `partition=${partition ?? ''} offset=${o}`));
    expect(lines[3]).toBe('3 records acknowledged');
  });

  it('sends to an explicit --partition', async () => {
    broker.createTopic('events', { partitions: 3 });
    await run(['produce', 'events', '--partition', '2'], 'x\n');
    expect(broker.log('events', 2).map((r) => r.value)).toEqual(['x']);
  });

  it('fails with NOT_FOUND for an unknown topic', async () => {
    const result = await run(['produce', 'nope'], 'x\n');
    expect(result).toEqual({ code: 1, stdout: '0 records acknowledged\n', stderr: 'NOT_FOUND: topic "nope" does not exist\n' });
  });

  it('stops at a rejected record, reports what was acknowledged and the error', async () => {
    broker.createTopic('events');
    broker.faults = (request) =>
      request.records.some((r) => r.value.toString() === 'bad') ? { kind: 'refuse', error: new InvalidArgumentError('bad record') } : undefined;
    const result = await run(['produce', 'events', '--linger-ms', '0'], 'good\nbad\n');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('INVALID_ARGUMENT: bad record\n');
    // "good" is acknowledged unless it shared the refused batch.
    expect(result.stdout).toMatch(/^[01] records? acknowledged\n$/);
  });

  it('fails a line without the key separator', async () => {
    broker.createTopic('events');
    const result = await run(['produce', 'events', '--key-sep', '|'], 'a|1\nno separator\n');
    expect(result).toEqual({ code: 1, stdout: '1 record acknowledged\n', stderr: 'INVALID_ARGUMENT: line 2 has no key separator "|"\n' });
  });

  it('rejects --key together with --key-sep, and a malformed --header, with exit 2', async () => {
    expect((await run(['produce', 'events', '--key', 'k', '--key-sep', ':'])).code).toBe(2);
    const badHeader = await run(['produce', 'events', '--header', 'novalue']);
    expect(badHeader.code).toBe(2);
    expect(badHeader.stderr).toContain('--header');
  });
});
