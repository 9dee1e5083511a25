import { InvalidArgumentError, UnavailableError, silentLogger } from '@braid/core';
import { afterEach, describe, expect, it } from 'vitest';
import { payloads, tempDir } from '../test/temp-dir.js';
import { Database } from './database.js';
import type { WriteOp } from './database.js';
import { GroupCommit } from './group-commit.js';
import { LogStore } from './log-store.js';
import type { LogStoreOptions } from './log-store.js';
import { PartitionLog } from './partition-log.js';
import type { AppendResult } from './partition-log.js';
import { OUT_OF_ORDER_SEQUENCE } from './producer-state.js';
import { tailCacheDefaults } from './defaults.js';
import { TailCacheBudget } from './tail-cache.js';
import { rejection } from '../test/rejection.js';

const open: (LogStore | Database)[] = [];

afterEach(async () => {
  for (const handle of open.splice(0).reverse()) await handle.close();
});

async function openStore(dir = tempDir(), options: LogStoreOptions = {}): Promise<LogStore> {
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0, ...options });
  open.push(store);
  return store;
}

const text = (b: Buffer): string => b.toString().replace(/\.+$/, '');

async function readAll(log: PartitionLog, from = 0, maxRecords = 1000): Promise<{ offset: number; text: string; timestampMs: number }[]> {
  const out: { offset: number; text: string; timestampMs: number }[] = [];
  for (let next = from; next < log.highWatermark; ) {
    const records = await log.read(next, { maxRecords, maxBytes: 1 << 20 });
    for (const r of records) out.push({ offset: r.offset, text: text(r.payload), timestampMs: r.timestampMs });
    next = (records.at(-1)?.offset ?? next) + 1;
  }
  return out;
}

// Reads come from the tail cache while records are recent: the same reads run with it off, from RocksDB.
describe.each([
  ['from the tail cache', {}],
  ['from RocksDB (tail cache off)', { tailCache: { maxBytes: 0 } }],
] as const)('PartitionLog appends and reads, %s', (_, cacheOptions: LogStoreOptions) => {
  it('round-trips records with offsets assigned in call order', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(1, 0);
    const first = log.append({ payloads: [Buffer.from('a'), Buffer.from('b')], timestampMs: 1000 }, 'fsync');
    const second = log.append({ payloads: [Buffer.from('c')], timestampMs: 1001 }, 'write');
    expect(await first).toEqual({ baseOffset: 0, duplicate: false });
    expect(await second).toEqual({ baseOffset: 2, duplicate: false });
    expect(log.highWatermark).toBe(3);
    expect(log.sizeBytes).toBe(3 * (25 + 1));
    const records = await log.read(0, { maxRecords: 10, maxBytes: 1000 });
    expect(records.map((r) => [r.offset, r.timestampMs, r.payload.toString()])).toEqual([
      [0, 1000, 'a'],
      [1, 1000, 'b'],
      [2, 1001, 'c'],
    ]);
    expect(store.partition(1, 0)).toBe(log);
    expect(store.partition(1, 1).highWatermark).toBe(0);
  });

  it('reads scattered offsets with point lookups, skipping what is not readable', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(1, 2);
    await log.append({ payloads: ['a', 'b', 'c', 'd'].map((v) => Buffer.from(v)), timestampMs: 1000 }, 'fsync');
    const records = await log.readOffsets([3, 0, 9, 2]);
    expect(records.map((r) => [r.offset, r.timestampMs, r.payload.toString()])).toEqual([
      [3, 1000, 'd'],
      [0, 1000, 'a'],
      [2, 1000, 'c'],
    ]);
    expect(await log.readOffsets([])).toEqual([]);
    await expect(log.readOffsets([-1])).rejects.toThrow(/offset must be an integer/);
  });

  it('reads across many batches in pages', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(2, 3);
    const all = payloads(1000);
    const appends: Promise<AppendResult>[] = [];
    for (let i = 0; i < all.length; i += 20) appends.push(log.append({ payloads: all.slice(i, i + 20), timestampMs: 5 }, 'write'));
    expect((await Promise.all(appends)).map((r) => r.baseOffset)).toEqual(appends.map((_, i) => i * 20));
    const seen: string[] = [];
    for (let next = 0; next < log.highWatermark; ) {
      const page = await log.read(next, { maxRecords: 37, maxBytes: 1 << 20 });
      expect(page.length).toBe(Math.min(37, 1000 - next));
      expect(page.map((r) => r.offset)).toEqual(page.map((_, i) => next + i));
      seen.push(...page.map((r) => text(r.payload)));
      next += page.length;
    }
    expect(seen).toEqual(all.map(text));
  });

  it('honours maxRecords and maxBytes but returns at least one record', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(10, 100), timestampMs: 1 }, 'write');
    expect(await log.read(0, { maxRecords: 3, maxBytes: 1 << 20 })).toHaveLength(3);
    expect((await log.read(4, { maxRecords: 10, maxBytes: 250 })).map((r) => r.offset)).toEqual([4, 5]);
    expect((await log.read(4, { maxRecords: 10, maxBytes: 200 })).map((r) => r.offset)).toEqual([4, 5]);
    expect((await log.read(9, { maxRecords: 10, maxBytes: 10 })).map((r) => r.offset)).toEqual([9]);
    expect(await log.read(10, { maxRecords: 10, maxBytes: 1000 })).toEqual([]);
    expect(await log.read(99, { maxRecords: 10, maxBytes: 1000 })).toEqual([]);
  });

  it('finds the first offset at or after a timestamp, and keeps timestamps from going backwards', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(3), timestampMs: 1000 }, 'write'); // 0-2
    await log.append({ payloads: payloads(4), timestampMs: 2000 }, 'write'); // 3-6
    await log.append({ payloads: payloads(2), timestampMs: 1500 }, 'write'); // 7-8, stored at 2000
    await log.append({ payloads: payloads(1), timestampMs: 3000 }, 'write'); // 9
    expect((await log.read(7, { maxRecords: 2, maxBytes: 1000 })).map((r) => r.timestampMs)).toEqual([2000, 2000]);
    const at = (ts: number): Promise<number> => log.offsetForTimestamp(ts);
    expect([await at(0), await at(1000), await at(1001), await at(2000), await at(2001), await at(3000), await at(3001)]).toEqual([
      0, 0, 3, 3, 9, 9, 10,
    ]);
    expect(await store.partition(1, 1).offsetForTimestamp(5)).toBe(0);
  });

  it('rejects bad input with InvalidArgumentError', async () => {
    const store = await openStore(undefined, cacheOptions);
    const log = store.partition(1, 0);
    const bad = [
      log.append({ payloads: [], timestampMs: 1 }, 'fsync'),
      log.append({ payloads: [Buffer.from('x')], timestampMs: -1 }, 'fsync'),
      log.append({ payloads: [Buffer.from('x')], timestampMs: 1 }, 'sometimes' as 'fsync'),
      log.append({ payloads: ['text' as unknown as Buffer], timestampMs: 1 }, 'fsync'),
      log.append({ payloads: [Buffer.from('x')], timestampMs: 1, producer: { id: '', baseSequence: 0 } }, 'fsync'),
      log.append({ payloads: [Buffer.from('x')], timestampMs: 1, producer: { id: 'p', baseSequence: -2 } }, 'fsync'),
      log.read(0, { maxRecords: 0, maxBytes: 10 }),
      log.read(-1, { maxRecords: 1, maxBytes: 10 }),
      log.setRetention({ maxAgeMs: -5, maxBytes: 0 }),
    ];
    for (const error of await Promise.all(bad.map(rejection))) expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(() => store.partition(2 ** 32, 0)).toThrow(InvalidArgumentError);
    expect(log.highWatermark).toBe(0);
  });
});

describe('the tail cache', () => {
  it('serves recent records from memory and older ones from RocksDB, the same either way', async () => {
    // Appends of 50 records with 64-byte payloads store 50 * (8 + 64) = 3,600 bytes: one per slab, two slabs per partition.
    const store = await openStore(tempDir(), { tailCache: { maxBytes: 1 << 20, maxPartitionBytes: 2 * 3600, slabBytes: 3600 } });
    const log = store.partition(4, 0);
    const all = payloads(1000, 64);
    for (let i = 0; i < all.length; i += 50) await log.append({ payloads: all.slice(i, i + 50), timestampMs: 9 }, 'write');
    const before = store.stats().tailCache;
    // Three slabs were allocated: the third before the first was given up, then that one was reused.
    expect(before).toMatchObject({ records: 100, bytes: 3 * 3600 });

    const expected = all.map((payload, offset) => ({ offset, text: text(payload), timestampMs: 9 }));
    expect(await readAll(log, 0, 100)).toEqual(expected);
    // Pages of 100 from 0 went to RocksDB until they reached the cached 900-999, read from memory.
    const after = store.stats().tailCache;
    expect(after.missedReads - before.missedReads).toBe(9);
    expect(after.hitRecords - before.hitRecords).toBe(100);

    const scattered = await log.readOffsets([999, 5, 950, 899, 900]);
    expect(scattered.map((r) => [r.offset, text(r.payload)])).toEqual([999, 5, 950, 899, 900].map((o) => [o, `r${o}`]));
    expect(store.stats().tailCache.hitRecords - after.hitRecords).toBe(3);

    // Retention moves the log start into the cache: the append wholly below it goes, and nothing below it is served.
    await log.setRetention({ maxAgeMs: 0, maxBytes: 40 * (25 + 64) });
    await store.runRetentionOnce();
    expect(log.logStartOffset).toBe(960);
    expect(store.stats().tailCache.records).toBe(50);
    expect((await readAll(log, 0)).map((r) => r.offset)).toEqual(Array.from({ length: 40 }, (_, i) => 960 + i));
    expect((await log.readOffsets([950, 961])).map((r) => r.offset)).toEqual([961]);
  });

  it('lets go of a dropped topic\'s records', async () => {
    const store = await openStore();
    const log = store.partition(5, 0);
    await log.append({ payloads: payloads(10), timestampMs: 1 }, 'write');
    expect(store.stats().tailCache.records).toBe(10);
    await store.dropTopic(5);
    expect(store.stats().tailCache.records).toBe(0);
  });
});

describe('group commit through the store', () => {
  it('lets concurrent appends share writes', async () => {
    const store = await openStore();
    const even = store.partition(1, 0);
    const odd = store.partition(1, 1);
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? even : odd).append({ payloads: payloads(3), timestampMs: 1 }, 'fsync')),
    );
    // Call order per partition: the i-th append of each got offset 3i.
    expect(results.map((r) => r.baseOffset)).toEqual(results.map((_, i) => Math.floor(i / 2) * 3));
    const { writeBatches, entriesWritten } = store.stats();
    expect(entriesWritten).toBe(100);
    expect(writeBatches).toBeLessThan(100);
    expect([even.highWatermark, odd.highWatermark]).toEqual([150, 150]);
  });

  it('writes fsync appends with sync and write appends without', async () => {
    const store = await openStore();
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(1), timestampMs: 1 }, 'write');
    expect(store.stats()).toMatchObject({ writeBatches: 1, syncedWriteBatches: 0 });
    await log.append({ payloads: payloads(1), timestampMs: 1 }, 'fsync');
    expect(store.stats()).toMatchObject({ writeBatches: 2, syncedWriteBatches: 1 });
    // One fsync append among write appends makes their shared batch synced.
    await Promise.all([
      log.append({ payloads: payloads(1), timestampMs: 1 }, 'write'),
      store.partition(1, 1).append({ payloads: payloads(1), timestampMs: 1 }, 'fsync'),
    ]);
    expect(store.stats()).toMatchObject({ writeBatches: 3, syncedWriteBatches: 2 });
  });

  it('advances every high watermark in offset order while batches of many partitions complete out of order', async () => {
    const store = await openStore(tempDir(), { groupCommit: { maxInFlightBatches: 4 } });
    const partitions = 16;
    const logs = Array.from({ length: partitions }, (_, p) => store.partition(7, p));
    const expectedNext = new Array<number>(partitions).fill(0);
    const lastResolvedEnd = new Array<number>(partitions).fill(0);
    const violations: string[] = [];
    const state = { writing: true };

    // A reader that follows every partition while the writes go on: what it sees must have no holes.
    const reader = (async () => {
      const next = new Array<number>(partitions).fill(0);
      while (state.writing) {
        for (let p = 0; p < partitions; p++) {
          const log = logs[p];
          if (!log) continue;
          for (const r of await log.read(next[p] ?? 0, { maxRecords: 500, maxBytes: 1 << 20 })) {
            if (r.offset !== next[p] || text(r.payload) !== `p${p}o${r.offset}`) violations.push(`read p${p} offset ${r.offset}`);
            next[p] = r.offset + 1;
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();

    const appends: Promise<void>[] = [];
    for (let wave = 0; wave < 40; wave++) {
      for (let i = 0; i < 12; i++) {
        const p = (wave * 7 + i * 5) % partitions;
        const log = logs[p];
        if (!log) continue;
        const count = 1 + ((wave + i) % 9);
        const base = expectedNext[p] ?? 0;
        expectedNext[p] = base + count;
        const body = Array.from({ length: count }, (_, k) => Buffer.from(`p${p}o${base + k}`));
        appends.push(
          log.append({ payloads: body, timestampMs: wave }, wave % 3 === 0 ? 'fsync' : 'write').then((result) => {
            if (result.baseOffset !== base) violations.push(`p${p}: base ${result.baseOffset}, expected ${base}`);
            if (log.highWatermark < base + count) violations.push(`p${p}: resolved before the high watermark passed it`);
            if (base < (lastResolvedEnd[p] ?? 0)) violations.push(`p${p}: resolved out of offset order`);
            lastResolvedEnd[p] = base + count;
          }),
        );
      }
      // Let some batches start before the next wave, so several are in flight at once.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    state.writing = false;
    await reader;

    expect(violations).toEqual([]);
    expect(logs.map((l) => l.highWatermark)).toEqual(expectedNext);
    for (const [p, log] of logs.entries()) {
      const records = await readAll(log);
      expect(records.map((r) => r.text)).toEqual(records.map((r) => `p${p}o${r.offset}`));
      expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    }
    // Several batches really were in flight together (so they could complete in any order).
    expect(store.stats().peakInFlightBatches).toBeGreaterThan(1);
  });
});

describe('idempotent producers', () => {
  const append = (log: PartitionLog, baseSequence: number, count: number, id = 'producer-1'): Promise<AppendResult> =>
    log.append({ payloads: payloads(count, 16, `s${baseSequence}-`), timestampMs: 1, producer: { id, baseSequence } }, 'fsync');

  it('answers a retried batch with its original offsets without appending', async () => {
    const store = await openStore();
    const log = store.partition(1, 0);
    expect(await append(log, 0, 3)).toEqual({ baseOffset: 0, duplicate: false });
    expect(await append(log, 3, 2)).toEqual({ baseOffset: 3, duplicate: false });
    expect(await append(log, 0, 3)).toEqual({ baseOffset: 0, duplicate: true });
    expect(await append(log, 3, 2)).toEqual({ baseOffset: 3, duplicate: true });
    expect(log.highWatermark).toBe(5);
    // Another producer, and the same producer on another partition, are independent.
    expect(await append(log, 0, 1, 'producer-2')).toEqual({ baseOffset: 5, duplicate: false });
    expect(await append(store.partition(1, 1), 9, 1)).toEqual({ baseOffset: 0, duplicate: false });
  });

  it('rejects gaps and out-of-order sequences, naming expected and got', async () => {
    const store = await openStore();
    const log = store.partition(1, 0);
    await append(log, 10, 5);
    for (const [base, count] of [[16, 1], [12, 1], [10, 4], [14, 1]] as const) {
      const error = await rejection(append(log, base, count));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).metadata).toMatchObject({
        reason: OUT_OF_ORDER_SEQUENCE,
        expectedSequence: '15',
        gotSequence: String(base),
      });
    }
    expect(log.highWatermark).toBe(5);
    expect(await append(log, 15, 1)).toEqual({ baseOffset: 5, duplicate: false });
  });

  it('checks pipelined batches against the pending state', async () => {
    const store = await openStore();
    const log = store.partition(1, 0);
    // Five batches in flight at once, none awaited before the next is sent.
    const sent = [0, 2, 4, 6, 8].map((base) => append(log, base, 2));
    const retry = append(log, 4, 2); // the client retries the third before any ack arrived
    const gap = rejection(append(log, 11, 1));
    const outOfOrder = rejection(append(log, 9, 2));
    expect(await Promise.all(sent)).toEqual([0, 2, 4, 6, 8].map((baseOffset) => ({ baseOffset, duplicate: false })));
    expect(await retry).toEqual({ baseOffset: 4, duplicate: true });
    expect(await gap).toBeInstanceOf(InvalidArgumentError);
    expect(await outOfOrder).toBeInstanceOf(InvalidArgumentError);
    expect(log.highWatermark).toBe(10);
  });

  it('remembers producers across a reopen', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    await append(store.partition(1, 0), 0, 4);
    await append(store.partition(1, 0), 4, 4);
    await store.close();
    store = await openStore(dir);
    const log = store.partition(1, 0);
    expect(await append(log, 4, 4)).toEqual({ baseOffset: 4, duplicate: true });
    expect(await rejection(append(log, 9, 1))).toBeInstanceOf(InvalidArgumentError);
    expect(await append(log, 8, 1)).toEqual({ baseOffset: 8, duplicate: false });
  });
});

describe('a failed write', () => {
  it('fails the append, never moves the high watermark over it, and fails the store', async () => {
    const db = await Database.open(tempDir());
    open.push(db);
    let failWrites = false;
    const commit = new GroupCommit({
      write: (ops: WriteOp[], sync: boolean) => (failWrites ? Promise.reject(new Error('IO error: injected')) : db.write(ops, sync)),
    });
    const log = new PartitionLog(
      {
        db,
        commit,
        logger: silentLogger,
        tails: new TailCacheBudget(tailCacheDefaults),
        checkWritable: () => {
          if (commit.failed) throw commit.failed;
        },
        checkReadable: () => undefined,
      },
      1,
      0,
      { meta: { logStartOffset: 0, sizeBytes: 0, maxAgeMs: 0, maxBytes: 0 }, highWatermark: 0, lastTimestampMs: 0, producers: new Map() },
    );
    await log.append({ payloads: payloads(2), timestampMs: 1 }, 'fsync');
    failWrites = true;
    const lost = rejection(log.append({ payloads: payloads(3), timestampMs: 1 }, 'fsync'));
    const queuedBehind = rejection(log.append({ payloads: payloads(1), timestampMs: 1 }, 'write'));
    const error = await lost;
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/injected/);
    expect(await queuedBehind).toBeInstanceOf(UnavailableError);
    failWrites = false;
    expect(await rejection(log.append({ payloads: payloads(1), timestampMs: 1 }, 'fsync'))).toBeInstanceOf(UnavailableError);
    expect(log.highWatermark).toBe(2);
    expect(await log.read(0, { maxRecords: 10, maxBytes: 1000 })).toHaveLength(2);
  });
});
