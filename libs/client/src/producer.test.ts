import { status as Status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MemoryPressureError, UnavailableError, seededRandom } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { partitionForKey } from '@braid/partitioning';
import { Producer } from './producer.js';
import type { ProducerOptions } from './producer.js';
import type { RecordMetadata } from './records.js';
import { FakeBroker } from './testing.js';

let broker: FakeBroker;
let extraBrokers: FakeBroker[] = [];
let producers: Producer[] = [];

beforeEach(async () => {
  broker = await FakeBroker.start();
});

afterEach(async () => {
  await Promise.all(producers.map((p) => p.close({ timeoutMs: 2000 })));
  producers = [];
  broker.stop();
  for (const b of extraBrokers) b.stop();
  extraBrokers = [];
});

function producer(options: Partial<ProducerOptions> = {}): Producer {
  const p = new Producer({ brokers: broker.address, retry: { initialDelayMs: 5, maxDelayMs: 20 }, ...options });
  producers.push(p);
  return p;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(5);
  }
}

function batchSizes(): number[] {
  return broker.requests.map((r) => r.records.length);
}

describe('Producer batching', () => {
  it('gathers records sent together into one batch and sends it when lingerMs has passed', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 200 });
    const started = Date.now();
    const sends = Array.from({ length: 10 }, (_, i) => p.send('t', { value: `v${i}` }));
    await delay(50);
    expect(broker.requests).toHaveLength(0);
    const results = await Promise.all(sends);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(batchSizes()).toEqual([10]);
    expect(results).toEqual(Array.from({ length: 10 }, (_, i) => ({ partition: 0, offset: i })));
    expect(broker.log('t', 0).map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
  });

  it('sends a batch as soon as it holds maxBatchRecords records, without waiting for linger', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 60_000, maxBatchRecords: 4 });
    const sends = Array.from({ length: 10 }, (_, i) => p.send('t', { value: `v${i}` }));
    await waitFor(() => broker.requests.length === 2);
    await delay(30);
    expect(batchSizes()).toEqual([4, 4]);
    await p.flush();
    expect(batchSizes()).toEqual([4, 4, 2]);
    await expect(Promise.all(sends)).resolves.toHaveLength(10);
  });

  it('keeps batches within maxBatchBytes', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 60_000, maxBatchBytes: 250 });
    const sends = Array.from({ length: 5 }, () => p.send('t', { value: 'x'.repeat(100) }));
    await p.flush();
    expect(batchSizes()).toEqual([2, 2, 1]);
    await Promise.all(sends);
  });

  it('with lingerMs 0 still batches the records of one synchronous burst', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 0 });
    await Promise.all(Array.from({ length: 50 }, (_, i) => p.send('t', { value: `v${i}` })));
    expect(batchSizes()).toEqual([50]);
  });

  it('resolves an array send with every record in order', async () => {
    broker.createTopic('t', { partitions: 2 });
    const p = producer({ lingerMs: 0 });
    const results = await p.send('t', [
      { value: 'a', partition: 1 },
      { value: 'b', partition: 0 },
      { value: 'c', partition: 1 },
    ]);
    expect(results).toEqual([
      { partition: 1, offset: 0 },
      { partition: 0, offset: 0 },
      { partition: 1, offset: 1 },
    ]);
    await expect(p.send('t', [])).resolves.toEqual([]);
  });
});

describe('Producer routing', () => {
  it('sends a keyed record to partitionForKey, honours an explicit partition and spreads keyless records round-robin', async () => {
    broker.createTopic('t', { partitions: 4 });
    const p = producer({ lingerMs: 0 });
    for (const key of ['user-1', 'user-2', 'user-3', 'user-42']) {
      const result = await p.send('t', { key, value: key });
      expect(result.partition).toBe(partitionForKey(Buffer.from(key), 4));
    }
    await expect(p.send('t', { key: 'user-1', value: 'pinned', partition: 3 })).resolves.toMatchObject({ partition: 3 });
    const keyless = await p.send('t', Array.from({ length: 8 }, (_, i) => ({ value: `k${i}` })));
    const perPartition = [0, 1, 2, 3].map((n) => keyless.filter((r) => r.partition === n).length);
    expect(perPartition).toEqual([2, 2, 2, 2]);
  });

  it('fetches metadata once per topic and sends headers, key and delivery time', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 0 });
    await p.send('t', { key: 'k', value: 'v', headers: { traceparent: '00-abc-def-01' }, delayMs: 500 });
    await p.send('t', { value: 'w' });
    expect(broker.metadataCalls).toBe(1);
    expect(broker.log('t', 0)[0]).toMatchObject({ key: 'k', value: 'v', headers: { traceparent: '00-abc-def-01' } });
    expect(broker.requests[0]?.records[0]?.delayMs).toBe(500);
  });

  it('rejects records for an unknown topic with NOT_FOUND, publishing nothing', async () => {
    const p = producer();
    await expect(p.send('nope', { value: 'x' })).rejects.toMatchObject({ code: Status.NOT_FOUND });
    expect(broker.requests).toHaveLength(0);
  });

  it('rejects an invalid record or topic name with INVALID_ARGUMENT before sending', async () => {
    broker.createTopic('t');
    const p = producer();
    await expect(p.send('t', { value: 42 } as unknown as { value: string })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    await expect(p.send('bad name', { value: 'x' })).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    expect(broker.requests).toHaveLength(0);
  });

  it('rejects a record over the topic max_record_bytes without failing its batch-mates', async () => {
    broker.createTopic('t', { maxRecordBytes: 100 });
    const p = producer({ lingerMs: 0 });
    const sent = p.send('t', [{ value: 'small-1' }, { value: 'x'.repeat(101) }, { value: 'small-2' }]);
    await expect(sent).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'RECORD_TOO_LARGE' });
    await p.flush();
    expect(broker.log('t', 0).map((r) => r.value)).toEqual(['small-1', 'small-2']);
  });

  it('follows a NOT_LEADER answer to the leader it names (a second connection)', async () => {
    const other = await FakeBroker.start();
    extraBrokers.push(other);
    broker.createTopic('t', { partitions: 2 });
    other.createTopic('t', { partitions: 2 });
    const p = producer({ lingerMs: 0 });
    await p.send('t', { value: 'before', partition: 1 });
    // Leadership of partition 1 moves to `other`; the bootstrap broker now
    // redirects and reports the new leader in its metadata.
    broker.setLeader('t', 1, other.address, 2);
    other.setLeader('t', 1, other.address, 2);
    await expect(p.send('t', { value: 'after', partition: 1 })).resolves.toEqual({ partition: 1, offset: 0 });
    expect(other.log('t', 1).map((r) => r.value)).toEqual(['after']);
    expect(broker.log('t', 1).map((r) => r.value)).toEqual(['before']);
  });

  it('refreshes metadata on STALE_EPOCH and retries with the new epoch', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 0 });
    await p.send('t', { value: 'a' });
    broker.setLeader('t', 0, broker.address, 7);
    await expect(p.send('t', { value: 'b' })).resolves.toEqual({ partition: 0, offset: 1 });
    expect(broker.metadataCalls).toBe(2);
    expect(broker.requests.at(-1)?.leaderEpoch).toBe(7);
  });
});

describe('Producer retries and ordering', () => {
  it('keeps every key in order with no duplicates while batches fail, connections drop and batches are resent', async () => {
    broker.createTopic('t', { partitions: 3 });
    broker.faults = (_request, n) => {
      if (n >= 120) return undefined;
      if (n % 5 === 1) return { kind: 'refuse', error: new UnavailableError('try again') };
      if (n % 7 === 3) return { kind: 'drop-after-append' };
      if (n % 11 === 5) return { kind: 'drop' };
      return undefined;
    };
    const p = producer({ lingerMs: 0, maxBatchRecords: 10, maxInFlightRequestsPerPartition: 5 });
    const keys = Array.from({ length: 20 }, (_, i) => `key-${i}`);
    const sends: Promise<RecordMetadata>[] = [];
    const values: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const key = keys[i % keys.length] ?? 'k';
      const value = `${key}:${i}`;
      values.push(value);
      sends.push(p.send('t', { key, value }));
      if (i % 37 === 0) await delay(1);
    }
    const results = await Promise.all(sends);

    const logs = broker.logs('t');
    const all = logs.flat().map((r) => r.value);
    expect(all).toHaveLength(1000);
    expect(new Set(all).size).toBe(1000);
    for (const log of logs) {
      const lastSeen = new Map<string, number>();
      for (const record of log) {
        const [key, n] = record.value.split(':');
        const seq = Number(n);
        expect(seq).toBeGreaterThan(lastSeen.get(key ?? '') ?? -1);
        lastSeen.set(key ?? '', seq);
      }
    }
    // Every caller was told where its record really is.
    results.forEach((result, i) => {
      expect(broker.log('t', result.partition)[result.offset]?.value).toBe(values[i]);
    });
    // Faults really happened: batches were resent with numbers the broker
    // had seen, and were deduplicated rather than appended twice.
    const seen = new Set<string>();
    let resends = 0;
    for (const request of broker.requests) {
      const id = `${request.producerId}/${request.partition}/${request.baseSequence}`;
      if (seen.has(id)) resends += 1;
      seen.add(id);
    }
    expect(resends).toBeGreaterThan(10);
  });

  it('rejects a batch refused with a terminal error at once, without retrying it, and keeps the partition going', async () => {
    broker.createTopic('t');
    broker.faults = (request) =>
      request.records.some((r) => r.value.toString() === 'poison') ? { kind: 'refuse', error: new InvalidArgumentError('poison record') } : undefined;
    // One record per batch, so the batch after the refused one is in flight
    // (and refused for its sequence) before the refusal comes back.
    const p = producer({ lingerMs: 0, maxBatchRecords: 1 });
    const poison = p.send('t', { value: 'poison' });
    const next = p.send('t', { value: 'next' });
    await expect(poison).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT, message: 'poison record' });
    await expect(next).resolves.toEqual({ partition: 0, offset: 0 });
    expect(broker.requests.filter((r) => r.records[0]?.value.toString() === 'poison')).toHaveLength(1);
    expect(broker.log('t', 0).map((r) => r.value)).toEqual(['next']);
  });

  it('waits the retry-after of RESOURCE_EXHAUSTED before resending', async () => {
    broker.createTopic('t');
    broker.faults = (_request, n) => (n === 0 ? { kind: 'refuse', error: new MemoryPressureError(600, 512, 2000) } : undefined);
    const clock = new FakeClock();
    const p = producer({ lingerMs: 0, clock, random: seededRandom(7), retry: { initialDelayMs: 10, maxDelayMs: 100 } });
    const sent = p.send('t', { value: 'x' });
    await waitFor(() => clock.pendingDelays().includes(2000));
    await clock.advance(1999);
    await delay(50);
    expect(broker.requests).toHaveLength(1);
    await clock.advance(1);
    await expect(sent).resolves.toEqual({ partition: 0, offset: 0 });
    expect(broker.requests).toHaveLength(2);
  });

  it('gives up after deliveryTimeoutMs with the last retriable error', async () => {
    broker.createTopic('t');
    broker.faults = () => ({ kind: 'refuse', error: new UnavailableError('partition leader down') });
    const p = producer({ lingerMs: 0, deliveryTimeoutMs: 300 });
    const started = Date.now();
    await expect(p.send('t', { value: 'x' })).rejects.toMatchObject({ code: Status.UNAVAILABLE, message: 'partition leader down' });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(broker.requests.length).toBeGreaterThan(2);
  });

  it('falls back to unary Publish when the broker does not implement PublishStream', async () => {
    const unaryOnly = await FakeBroker.start({ publishStream: false });
    extraBrokers.push(unaryOnly);
    unaryOnly.createTopic('t');
    const p = producer({ brokers: unaryOnly.address, lingerMs: 0 });
    await expect(p.send('t', [{ value: 'a' }, { value: 'b' }])).resolves.toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    await expect(p.send('t', { value: 'c' })).resolves.toEqual({ partition: 0, offset: 2 });
  });

  it('refuses more than five batches in flight per partition with idempotence', () => {
    expect(() => new Producer({ brokers: broker.address, maxInFlightRequestsPerPartition: 6 })).toThrow(/at most 5 with idempotence/);
    expect(() => producer({ maxInFlightRequestsPerPartition: 6, idempotent: false })).not.toThrow();
  });

  it('sends producer id and sequences when idempotent, and neither when not', async () => {
    broker.createTopic('t');
    const idempotent = producer({ lingerMs: 0 });
    await idempotent.send('t', [{ value: 'a' }, { value: 'b' }]);
    await idempotent.send('t', { value: 'c' });
    expect(broker.requests.map((r) => [r.producerId, r.partition, r.baseSequence])).toEqual([
      [idempotent.producerId, 0, 0],
      [idempotent.producerId, 0, 2],
    ]);
    const plain = producer({ lingerMs: 0, idempotent: false });
    await plain.send('t', { value: 'd' });
    expect(broker.requests.at(-1)).toMatchObject({ producerId: '', baseSequence: 0 });
    expect(broker.requests.at(-1)?.records[0]?.partition).toBe(0);
  });
});

describe('Producer backpressure', () => {
  it('holds records back while maxInFlightBytes are unacknowledged, and ready() tells the caller', async () => {
    broker.createTopic('t');
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    broker.faults = () => ({ kind: 'hold', until: gate });
    const p = producer({ lingerMs: 0, maxInFlightBytes: 1000 });
    const sends = Array.from({ length: 25 }, () => p.send('t', { value: 'x'.repeat(100) }));
    let ready = false;
    void p.ready().then(() => { ready = true; });
    await waitFor(() => broker.requests.length > 0);
    await delay(50);
    // 1000 bytes = ten 100-byte records reached the broker; the other 15 wait.
    expect(broker.requests.reduce((n, r) => n + r.records.length, 0)).toBe(10);
    expect(ready).toBe(false);
    open();
    await Promise.all(sends);
    expect(ready).toBe(true);
    expect(broker.log('t', 0)).toHaveLength(25);
  });
});

describe('Producer flush and close', () => {
  it('flush() sends lingering batches at once and resolves when they are acknowledged', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 60_000 });
    const sent = p.send('t', { value: 'x' });
    const started = Date.now();
    await p.flush();
    expect(Date.now() - started).toBeLessThan(1000);
    await expect(sent).resolves.toEqual({ partition: 0, offset: 0 });
    await p.flush();
  });

  it('close() flushes, then rejects later sends with FAILED_PRECONDITION', async () => {
    broker.createTopic('t');
    const p = producer({ lingerMs: 60_000 });
    const sent = p.send('t', { value: 'x' });
    await p.close();
    await expect(sent).resolves.toEqual({ partition: 0, offset: 0 });
    await expect(p.send('t', { value: 'y' })).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });
    await expect(p.close()).resolves.toBeUndefined();
  });

  it('close({ timeoutMs }) fails what the broker has not acknowledged by then with CANCELLED', async () => {
    broker.createTopic('t');
    broker.faults = () => ({ kind: 'hold', until: new Promise(() => undefined) });
    const p = producer({ lingerMs: 0 });
    const sent = p.send('t', { value: 'x' });
    await waitFor(() => broker.requests.length === 1);
    await p.close({ timeoutMs: 50 });
    await expect(sent).rejects.toMatchObject({ code: Status.CANCELLED });
  });
});
