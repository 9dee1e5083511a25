import { FakeClock } from '@braid/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { payloads, tempDir } from '../test/temp-dir.js';
import { LogStore } from './log-store.js';
import type { LogStoreOptions } from './log-store.js';

const HOUR = 3_600_000;
const stores: LogStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function openStore(dir: string, options: LogStoreOptions): Promise<LogStore> {
  const store = await LogStore.open(dir, options);
  stores.push(store);
  return store;
}

describe('retention', () => {
  it('deletes records older than maxAgeMs from the head and persists the new log start', async () => {
    const dir = tempDir();
    const clock = new FakeClock(10 * HOUR);
    let store = await openStore(dir, { clock, retentionCheckIntervalMs: 0 });
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(5), timestampMs: 5 * HOUR }, 'fsync'); // 0-4: 5 h old
    await log.append({ payloads: payloads(3), timestampMs: 8 * HOUR }, 'fsync'); // 5-7: 2 h old
    await log.append({ payloads: payloads(2), timestampMs: 10 * HOUR }, 'fsync'); // 8-9: new
    const sizeBefore = log.sizeBytes;
    await log.setRetention({ maxAgeMs: 3 * HOUR, maxBytes: 0 });

    expect(await store.runRetentionOnce()).toEqual({ partitionsTrimmed: 1, recordsDeleted: 5, bytesDeleted: 5 * (25 + 32) });
    expect(log.logStartOffset).toBe(5);
    expect(log.sizeBytes).toBe(sizeBefore - 5 * (25 + 32));
    expect((await log.read(0, { maxRecords: 100, maxBytes: 1 << 20 })).map((r) => r.offset)).toEqual([5, 6, 7, 8, 9]);
    expect(await log.offsetForTimestamp(0)).toBe(5);
    // Nothing else is old enough yet.
    expect((await store.runRetentionOnce()).recordsDeleted).toBe(0);

    await store.close();
    store = await openStore(dir, { clock, retentionCheckIntervalMs: 0 });
    const reopened = store.partition(1, 0);
    expect([reopened.logStartOffset, reopened.highWatermark, reopened.sizeBytes]).toEqual([5, 10, sizeBefore - 5 * 57]);
    expect(reopened.retention).toEqual({ maxAgeMs: 3 * HOUR, maxBytes: 0 });
    expect((await reopened.read(2, { maxRecords: 1, maxBytes: 100 }))[0]?.offset).toBe(5);
    expect((await reopened.append({ payloads: payloads(1), timestampMs: 10 * HOUR }, 'fsync')).baseOffset).toBe(10);
  });

  it('deletes the oldest records while the partition is over maxBytes', async () => {
    const store = await openStore(tempDir(), { retentionCheckIntervalMs: 0 });
    const log = store.partition(1, 0);
    const recordBytes = 25 + 75; // 75-byte payloads
    for (let i = 0; i < 10; i++) await log.append({ payloads: payloads(10, 75), timestampMs: 1 }, 'write');
    expect(log.sizeBytes).toBe(100 * recordBytes);
    await log.setRetention({ maxAgeMs: 0, maxBytes: 35 * recordBytes + 50 });
    const report = await store.runRetentionOnce();
    expect(report.recordsDeleted).toBe(65);
    expect(log.logStartOffset).toBe(65);
    expect(log.sizeBytes).toBe(35 * recordBytes);
    expect(store.stats().totalBytes).toBe(35 * recordBytes);
  });

  it('can empty a partition but never passes the high watermark, and offsets continue', async () => {
    const dir = tempDir();
    const clock = new FakeClock(100 * HOUR);
    let store = await openStore(dir, { clock, retentionCheckIntervalMs: 0 });
    const log = store.partition(3, 1);
    await log.append({ payloads: payloads(4), timestampMs: 1 }, 'fsync');
    await log.setRetention({ maxAgeMs: HOUR, maxBytes: 1 });
    await store.runRetentionOnce();
    expect([log.logStartOffset, log.highWatermark, log.sizeBytes]).toEqual([4, 4, 0]);
    expect(await log.read(0, { maxRecords: 10, maxBytes: 100 })).toEqual([]);
    await store.close();
    store = await openStore(dir, { clock, retentionCheckIntervalMs: 0 });
    const reopened = store.partition(3, 1);
    expect([reopened.logStartOffset, reopened.highWatermark]).toEqual([4, 4]);
    expect((await reopened.append({ payloads: payloads(1), timestampMs: 100 * HOUR }, 'fsync')).baseOffset).toBe(4);
  });

  it('deletes in chunks bigger partitions than one batch holds', async () => {
    const store = await openStore(tempDir(), { retentionCheckIntervalMs: 0 });
    const log = store.partition(1, 0);
    const appends = [];
    for (let i = 0; i < 25; i++) appends.push(log.append({ payloads: payloads(1000, 8), timestampMs: 1 }, 'write'));
    await Promise.all(appends);
    await log.setRetention({ maxAgeMs: 0, maxBytes: 500 * (25 + 8) });
    const { writeBatches } = store.stats();
    expect((await store.runRetentionOnce()).recordsDeleted).toBe(24_500);
    expect(log.logStartOffset).toBe(24_500);
    // 10,000 deletions per batch: three batches.
    expect(store.stats().writeBatches - writeBatches).toBe(3);
  });

  it('runs in the background on the injected clock', async () => {
    const clock = new FakeClock(50 * HOUR);
    const store = await openStore(tempDir(), { clock, retentionCheckIntervalMs: 60_000 });
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(3), timestampMs: 1 * HOUR }, 'fsync');
    await log.append({ payloads: payloads(3), timestampMs: 50 * HOUR }, 'fsync');
    await log.setRetention({ maxAgeMs: 24 * HOUR, maxBytes: 0 });
    expect(clock.pendingDelays()).toEqual([60_000]);
    await clock.advance(59_999);
    expect(log.logStartOffset).toBe(0);
    await clock.advance(1);
    await waitFor(() => log.logStartOffset === 3);
    expect(clock.pendingSleeps).toBe(1); // the next pass is scheduled
  });
});

/** Polls `condition` (the retention pass does real I/O after the fake clock fires). */
async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
