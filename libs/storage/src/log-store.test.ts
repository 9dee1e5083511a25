import { FailedPreconditionError, ShuttingDownError } from '@braid/core';
import { MemoryLogger } from '@braid/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { payloads, tempDir } from '../test/temp-dir.js';
import { Database } from './database.js';
import { logKey, pendingTopicDropKey } from './keys.js';
import { LogStore } from './log-store.js';
import type { LogStoreOptions } from './log-store.js';
import { rejection } from '../test/rejection.js';

const stores: LogStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function openStore(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0, ...options });
  stores.push(store);
  return store;
}

describe('LogStore', () => {
  it('recovers every partition on reopen and continues its offsets', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    for (let topic = 1; topic <= 3; topic++) {
      for (let partition = 0; partition < 2; partition++) {
        await store.partition(topic, partition).append({ payloads: payloads(topic + partition, 10), timestampMs: 100 * topic }, 'fsync');
      }
    }
    const before = store.stats();
    await store.close();

    const logger = new MemoryLogger();
    store = await openStore(dir, { logger });
    expect(store.stats()).toMatchObject({ partitions: 6, totalBytes: before.totalBytes });
    expect(logger.entries.some((e) => e.message === 'log store opened' && e.fields['partitions'] === 6)).toBe(true);
    const log = store.partition(3, 1);
    expect(log.highWatermark).toBe(4);
    expect((await log.read(0, { maxRecords: 10, maxBytes: 1000 })).map((r) => [r.offset, r.timestampMs])).toEqual([
      [0, 300],
      [1, 300],
      [2, 300],
      [3, 300],
    ]);
    // The next batch keeps timestamps from going backwards across the restart too.
    expect(await log.append({ payloads: payloads(1), timestampMs: 5 }, 'fsync')).toEqual({ baseOffset: 4, duplicate: false });
    expect((await log.read(4, { maxRecords: 1, maxBytes: 100 }))[0]?.timestampMs).toBe(300);
  });

  it('lists its partition logs, recovered ones included, with their sizes', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    await store.partition(7, 0).append({ payloads: payloads(2, 100), timestampMs: 1 }, 'fsync');
    await store.close();
    store = await openStore(dir);
    await store.partition(7, 1).append({ payloads: payloads(1, 100), timestampMs: 1 }, 'fsync');
    expect([...store.logs()].map((log) => [log.topicId, log.partition, log.sizeBytes]).sort()).toEqual([
      [7, 0, 2 * 125],
      [7, 1, 125],
    ]);
  });

  it('counts bytes accepted but not yet durable', async () => {
    const store = await openStore(tempDir());
    const pending = store.partition(1, 0).append({ payloads: payloads(4, 100), timestampMs: 1 }, 'fsync');
    expect(store.unflushedBytes).toBe(4 * 125);
    await pending;
    expect(store.unflushedBytes).toBe(0);
    expect(store.stats()).toMatchObject({ totalBytes: 4 * 125, unflushedBytes: 0, failed: false });
  });

  it('drops a topic: its data goes, other topics stay, the old logs refuse writes', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const old = store.partition(1, 0);
    await old.append({ payloads: payloads(5), timestampMs: 1, producer: { id: 'p', baseSequence: 0 } }, 'fsync');
    await store.partition(1, 1).append({ payloads: payloads(5), timestampMs: 1 }, 'fsync');
    await store.partition(2, 0).append({ payloads: payloads(5), timestampMs: 1 }, 'fsync');
    // An append accepted before the drop finishes before the data is deleted.
    const inFlight = old.append({ payloads: payloads(1), timestampMs: 1 }, 'fsync');
    const dropping = store.dropTopic(1);
    expect(() => store.partition(1, 5)).toThrow(FailedPreconditionError);
    expect(await inFlight).toEqual({ baseOffset: 5, duplicate: false });
    await dropping;

    expect(await rejection(old.append({ payloads: payloads(1), timestampMs: 1 }, 'fsync'))).toBeInstanceOf(FailedPreconditionError);
    expect(store.stats().partitions).toBe(1);
    const fresh = store.partition(1, 0);
    expect(fresh).not.toBe(old);
    expect(fresh.highWatermark).toBe(0);
    // The producer state went too: any sequence starts the producer afresh.
    expect(await fresh.append({ payloads: payloads(1), timestampMs: 1, producer: { id: 'p', baseSequence: 0 } }, 'fsync')).toEqual({
      baseOffset: 0,
      duplicate: false,
    });
    await store.close();

    store = await openStore(dir);
    expect(store.stats().partitions).toBe(2);
    expect(store.partition(1, 0).highWatermark).toBe(1);
    expect(store.partition(1, 1).highWatermark).toBe(0);
    expect(store.partition(2, 0).highWatermark).toBe(5);
  });

  it('finishes a topic drop that a crash interrupted', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    await store.partition(4, 0).append({ payloads: payloads(3), timestampMs: 1 }, 'fsync');
    await store.partition(5, 0).append({ payloads: payloads(3), timestampMs: 1 }, 'fsync');
    await store.close();
    // What a crash right after the drop began leaves behind: the marker, and all the data.
    const db = await Database.open(dir);
    await db.write([{ type: 'put', key: pendingTopicDropKey(4), value: Buffer.from([1]) }], true);
    await db.close();

    const reopened = await openStore(dir);
    expect(reopened.stats().partitions).toBe(1);
    expect(reopened.partition(4, 0).highWatermark).toBe(0);
    expect(reopened.partition(5, 0).highWatermark).toBe(3);
    await reopened.close();
    const check = await Database.open(dir);
    expect(await check.get(logKey(4, 0, 0))).toBeUndefined();
    expect(await check.get(pendingTopicDropKey(4))).toBeUndefined();
    await check.close();
  });

  it('on close, finishes accepted appends and then refuses everything', async () => {
    const store = await openStore(tempDir());
    const log = store.partition(1, 0);
    const accepted = log.append({ payloads: payloads(3), timestampMs: 1 }, 'fsync');
    const closing = store.close();
    expect(await accepted).toEqual({ baseOffset: 0, duplicate: false });
    await closing;
    expect(await rejection(log.append({ payloads: payloads(1), timestampMs: 1 }, 'fsync'))).toBeInstanceOf(ShuttingDownError);
    expect(await rejection(log.read(0, { maxRecords: 1, maxBytes: 10 }))).toBeInstanceOf(ShuttingDownError);
    expect(() => store.partition(1, 0)).toThrow(ShuttingDownError);
    expect(await rejection(store.runRetentionOnce())).toBeInstanceOf(ShuttingDownError);
    await store.close(); // idempotent
  });
});
