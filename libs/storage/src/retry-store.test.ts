import { FailedPreconditionError, InvalidArgumentError, InvalidNameError, ShuttingDownError } from '@braid/core';
import { MemoryLogger } from '@braid/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/temp-dir.js';
import { rejection } from '../test/rejection.js';
import { Database } from './database.js';
import { Keyspace, decodeRetryDueKey, keyspaceRange, pendingRetryDropKey, pendingTopicDropKey, retryDueKey, retryStateKey } from './keys.js';
import { LogStore } from './log-store.js';
import type { LogStoreOptions } from './log-store.js';
import { encodeRetryState } from './retry-state.js';
import type { AttemptEntry, RetryKey, RetryState } from './retry-state.js';

const stores: LogStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function openStore(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0, ...options });
  stores.push(store);
  return store;
}

/** Closes the store (if open) and returns the due index as stored: `dueMs/topic/partition/subscription/offset`. */
async function rawDueIndex(dir: string): Promise<string[]> {
  for (const store of stores.splice(0)) await store.close();
  const db = await Database.open(dir);
  try {
    const entries: string[] = [];
    for await (const [key] of db.entries(keyspaceRange(Keyspace.retryDue), { values: false })) {
      const d = decodeRetryDueKey(key);
      entries.push(`${d.dueMs}/${d.topicId}/${d.partition}/${d.subscription}/${d.offset}`);
    }
    return entries;
  } finally {
    await db.close();
  }
}

/** Counts the stored retry states. */
async function rawStateCount(dir: string): Promise<number> {
  for (const store of stores.splice(0)) await store.close();
  const db = await Database.open(dir);
  try {
    let n = 0;
    for await (const [key] of db.entries(keyspaceRange(Keyspace.retry), { values: false })) n += key.length > 0 ? 1 : 0;
    return n;
  } finally {
    await db.close();
  }
}

const attempt = (n: number, disposition: AttemptEntry['disposition'] = 'nack'): AttemptEntry => ({
  attempt: n,
  timeMs: 1_000 + n,
  memberId: `member-${n % 3}`,
  disposition,
  reason: `failed ${n}`,
  errorClass: n % 2 === 0 ? 'TimeoutError' : '',
});

function retry(key: Partial<RetryKey> & { offset: number }, dueMs: number, extra: Partial<RetryState> = {}): RetryState {
  return { topicId: 1, partition: 0, subscription: 'push', ...key, attempts: [attempt(1)], dueMs, deadLettering: false, ...extra };
}

const ids = (states: readonly RetryState[]): string[] => states.map((s) => `${s.dueMs}/${s.topicId}/${s.partition}/${s.subscription}/${s.offset}`);

describe('RetryStore', () => {
  it('round-trips a state; another key reads as undefined', async () => {
    const retries = (await openStore(tempDir())).retries();
    const state = retry({ offset: 7 }, 5_000, { attempts: [attempt(1), attempt(2, 'lease_expired'), attempt(3, 'member_left')] });
    await retries.put([state]);
    expect(await retries.get({ topicId: 1, partition: 0, subscription: 'push', offset: 7 })).toEqual({ ...state, droppedAttempts: 0 });
    expect(await retries.get({ topicId: 1, partition: 0, subscription: 'push', offset: 8 })).toBeUndefined();
    expect(await retries.get({ topicId: 1, partition: 1, subscription: 'push', offset: 7 })).toBeUndefined();
    expect(await retries.get({ topicId: 1, partition: 0, subscription: 'search', offset: 7 })).toBeUndefined();
    expect(retries.stats()).toMatchObject({ statesWritten: 1, activeKeys: 0 });
  });

  it('replacing a state moves its due entry; dueMs 0 and dead-lettering states leave the index', async () => {
    const dir = tempDir();
    const retries = (await openStore(dir)).retries();
    await retries.put([retry({ offset: 1 }, 100), retry({ offset: 2 }, 150)]);
    await retries.put([retry({ offset: 1 }, 300, { attempts: [attempt(1), attempt(2)] })]);
    expect(ids(await retries.due(200, 10))).toEqual(['150/1/0/push/2']);
    expect(ids(await retries.due(300, 10))).toEqual(['150/1/0/push/2', '300/1/0/push/1']);
    expect((await retries.get(retry({ offset: 1 }, 0)))?.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    // Replaced by a state due "at once" and by one being dead-lettered: no timers left for them.
    await retries.put([retry({ offset: 1 }, 0), retry({ offset: 2 }, 150, { deadLettering: true })]);
    expect(await retries.due(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
    expect(await retries.nextDueMs()).toBeUndefined();
    // ... but they are still there for list/get.
    expect((await retries.list(1, 0, 'push')).map((s) => [s.offset, s.dueMs, s.deadLettering])).toEqual([
      [1, 0, false],
      [2, 150, true],
    ]);
    // And back onto a timer.
    await retries.put([retry({ offset: 2 }, 400)]);
    expect(await rawDueIndex(dir)).toEqual(['400/1/0/push/2']);
  });

  it('returns due states ascending by due time across topics and subscriptions, at most limit, paging with after', async () => {
    const retries = (await openStore(tempDir())).retries();
    const states = [
      retry({ offset: 5 }, 500),
      retry({ topicId: 2, subscription: 'search', offset: 1 }, 100),
      retry({ subscription: 'search', offset: 9 }, 300),
      retry({ partition: 3, offset: 2 }, 300),
      retry({ offset: 4 }, 300),
      retry({ topicId: 9, partition: 1, subscription: 'analytics', offset: 0 }, 200),
      retry({ offset: 6 }, 10_000),
    ];
    await retries.put(states);
    // Ties are in key order: topic, partition, subscription, offset.
    const expected = ['100/2/0/search/1', '200/9/1/analytics/0', '300/1/0/push/4', '300/1/0/search/9', '300/1/3/push/2', '500/1/0/push/5'];
    expect(ids(await retries.due(9_999, 100))).toEqual(expected);
    expect(ids(await retries.due(300, 3))).toEqual(expected.slice(0, 3));
    expect(await retries.due(99, 100)).toEqual([]);
    expect(await retries.due(300, 0)).toEqual([]);
    expect(await retries.nextDueMs()).toBe(100);

    // Paging: after the last state of a page, and after everything due by a time.
    const page1 = await retries.due(9_999, 3);
    const page2 = await retries.due(9_999, 3, { dueMs: page1.at(-1)?.dueMs ?? 0, key: page1.at(-1) });
    expect(ids(page2)).toEqual(expected.slice(3));
    expect(ids(await retries.due(9_999, 100, { dueMs: 300 }))).toEqual(['500/1/0/push/5']);
    expect(ids(await retries.due(Number.MAX_SAFE_INTEGER, 100, { dueMs: 500 }))).toEqual(['10000/1/0/push/6']);
  });

  it('removes states and their due entries; unknown keys are skipped', async () => {
    const dir = tempDir();
    const retries = (await openStore(dir)).retries();
    await retries.put([retry({ offset: 1 }, 100), retry({ offset: 2 }, 200), retry({ offset: 3 }, 0)]);
    await retries.remove([retry({ offset: 1 }, 0), retry({ offset: 3 }, 0), retry({ offset: 99 }, 0)]);
    expect(await retries.get(retry({ offset: 1 }, 0))).toBeUndefined();
    expect(await retries.get(retry({ offset: 3 }, 0))).toBeUndefined();
    expect(ids(await retries.due(1_000, 10))).toEqual(['200/1/0/push/2']);
    expect(retries.stats()).toMatchObject({ statesWritten: 3, statesRemoved: 2 });
    await retries.remove([]);
    expect(await rawDueIndex(dir)).toEqual(['200/1/0/push/2']);
  });

  it('with the stored due times given, moves and removes due entries without reading; a wrong one leaves an orphan that due() drops', async () => {
    const dir = tempDir();
    const retries = (await openStore(dir)).retries();
    // Nothing stored before: no due entry to delete.
    await retries.put([retry({ offset: 1 }, 100), retry({ offset: 2 }, 200)], 'write', [undefined, undefined]);
    // Offset 1 moves from 100 to 300; offset 2 is being dead-lettered (leaves the index).
    await retries.put([retry({ offset: 1 }, 300), retry({ offset: 2 }, 200, { deadLettering: true })], 'write', [100, 200]);
    expect(ids(await retries.due(1_000, 10))).toEqual(['300/1/0/push/1']);
    // Removal with the due times as last written: states and due entries go.
    await retries.remove([retry({ offset: 1 }, 0), retry({ offset: 2 }, 0)], 'write', [300, undefined]);
    expect(await retries.get(retry({ offset: 1 }, 0))).toBeUndefined();
    expect(await retries.get(retry({ offset: 2 }, 0))).toBeUndefined();
    expect(await retries.nextDueMs()).toBeUndefined();

    // A caller that is wrong about the stored due time: the old entry stays behind, never fires, and is dropped.
    await retries.put([retry({ offset: 5 }, 500)], 'write', [undefined]);
    await retries.put([retry({ offset: 5 }, 700)], 'write', [600]);
    expect(ids(await retries.due(1_000, 10))).toEqual(['700/1/0/push/5']);
    await expect.poll(() => retries.stats().orphanedDueEntries).toBe(1);
    expect(await rawDueIndex(dir)).toEqual(['700/1/0/push/5']);
  });

  it('refuses stored due times that do not match the states or keys', async () => {
    const retries = (await openStore(tempDir())).retries();
    await expect(retries.put([retry({ offset: 1 }, 100)], 'write', [])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(retries.remove([retry({ offset: 1 }, 0)], 'write', [1, 2])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(retries.put([retry({ offset: 1 }, 100)], 'write', [-1])).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("lists one subscription partition's states ascending by offset, whatever their names' neighbours hold", async () => {
    const retries = (await openStore(tempDir())).retries();
    await retries.put([
      retry({ offset: 300 }, 5),
      retry({ offset: 2 ** 40 }, 0, { deadLettering: true }),
      retry({ offset: 7 }, 9),
      retry({ subscription: 'push-eu', offset: 1 }, 5),
      retry({ subscription: 'pus', offset: 1 }, 5),
      retry({ partition: 1, offset: 1 }, 5),
      retry({ topicId: 2, offset: 1 }, 5),
    ]);
    expect((await retries.list(1, 0, 'push')).map((s) => s.offset)).toEqual([7, 300, 2 ** 40]);
    expect((await retries.list(1, 0, 'push-eu')).map((s) => s.offset)).toEqual([1]);
    // count agrees with list, over the keys alone.
    expect(await retries.count(1, 0, 'push')).toBe(3);
    expect(await retries.count(1, 0, 'push-eu')).toBe(1);
    expect(await retries.count(1, 1, 'push')).toBe(1);
    expect(await retries.count(1, 0, 'nobody')).toBe(0);
    expect(await retries.list(1, 0, 'nobody')).toEqual([]);
  });

  it('lets get and list see operations accepted before them', async () => {
    const retries = (await openStore(tempDir())).retries();
    void retries.put([retry({ offset: 1 }, 100)]);
    expect(await retries.get(retry({ offset: 1 }, 0))).toMatchObject({ dueMs: 100 });
    void retries.put([retry({ offset: 2 }, 100)]);
    void retries.remove([retry({ offset: 1 }, 0)]);
    expect((await retries.list(1, 0, 'push')).map((s) => s.offset)).toEqual([2]);
  });

  it('keeps exactly one due entry per key under concurrent puts and removes of that key; the last call wins', async () => {
    const dir = tempDir();
    const retries = (await openStore(dir)).retries();
    const calls: Promise<void>[] = [];
    for (let i = 1; i <= 60; i++) {
      // Puts move the key back and forth across due times, a remove now and then; none waits for the one before.
      if (i % 7 === 0) calls.push(retries.remove([retry({ offset: 1 }, 0)]));
      else calls.push(retries.put([retry({ offset: 1 }, 1_000 + ((i * 37) % 11)), retry({ offset: 2 }, 2_000 + i)]));
    }
    // The same key twice in one call: the last state wins.
    calls.push(retries.put([retry({ offset: 1 }, 5), retry({ offset: 1 }, 7_777)]));
    await Promise.all(calls);
    expect(await retries.get(retry({ offset: 1 }, 0))).toMatchObject({ dueMs: 7_777 });
    expect(await rawDueIndex(dir)).toEqual(['2060/1/0/push/2', '7777/1/0/push/1']);
  });

  it('keeps everything across close and reopen', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const states: RetryState[] = [];
    for (let topicId = 1; topicId <= 3; topicId++) {
      for (let offset = 0; offset < 50; offset++) {
        states.push(retry({ topicId, partition: offset % 4, subscription: offset % 2 ? 'push' : 'search', offset }, 10_000 + offset * 10 + topicId, {
          attempts: Array.from({ length: 1 + (offset % 40) }, (_, i) => attempt(i + 1)),
          deadLettering: offset === 49,
        }));
      }
    }
    await store.retries().put(states, 'fsync');
    await store.close();

    store = await openStore(dir);
    const retries = store.retries();
    const waiting = states.filter((s) => !s.deadLettering).sort((a, b) => a.dueMs - b.dueMs);
    expect(ids(await retries.due(Number.MAX_SAFE_INTEGER, 1_000))).toEqual(ids(waiting));
    expect(await retries.nextDueMs()).toBe(10_001);
    const listed = await retries.list(2, 1, 'push');
    expect(listed.map((s) => s.offset)).toEqual([1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49]);
    const last = listed.at(-1);
    expect(last).toMatchObject({ deadLettering: true, droppedAttempts: 0 });
    expect(last?.attempts).toHaveLength(10);
    const long = await retries.get({ topicId: 3, partition: 3, subscription: 'push', offset: 39 });
    expect(long?.attempts.map((a) => a.attempt)).toEqual([1, 2, ...Array.from({ length: 30 }, (_, i) => 11 + i)]);
    expect(long?.droppedAttempts).toBe(8);
  });

  it("drops one subscription's states and due entries on every partition; accepted puts finish first and later ones are refused", async () => {
    const dir = tempDir();
    const logger = new MemoryLogger();
    const retries = (await openStore(dir, { logger })).retries();
    const puts: RetryState[] = [];
    for (const partition of [0, 1, 7, 2 ** 32 - 1]) {
      for (const subscription of ['push', 'push-eu', 'pus', 'search']) puts.push(retry({ partition, subscription, offset: partition % 100 }, 100 + (partition % 50)));
    }
    puts.push(retry({ topicId: 2, offset: 1 }, 100));
    await retries.put(puts);
    const accepted = retries.put([retry({ partition: 3, offset: 1 }, 999)]);
    const dropping = retries.dropSubscription(1, 'push');
    const joined = retries.dropSubscription(1, 'push'); // joins the running drop
    expect(await rejection(retries.put([retry({ partition: 4, offset: 1 }, 5)]))).toBeInstanceOf(FailedPreconditionError);
    expect(await rejection(retries.remove([retry({ offset: 0 }, 0)]))).toBeInstanceOf(FailedPreconditionError);
    await Promise.all([accepted, dropping, joined]);
    expect(logger.entries.filter((e) => e.message === "subscription's retry states dropped").map((e) => e.fields['deleted'])).toEqual([5]);

    for (const partition of [0, 1, 3, 7, 2 ** 32 - 1]) expect(await retries.list(1, partition, 'push')).toEqual([]);
    expect((await retries.list(1, 7, 'push-eu')).map((s) => s.offset)).toEqual([7]);
    expect(ids(await retries.due(Number.MAX_SAFE_INTEGER, 100)).filter((id) => id.includes('/push/'))).toEqual(['100/2/0/push/1']);
    // Puts are taken again afterwards.
    await retries.put([retry({ offset: 5 }, 50)]);
    const index = await rawDueIndex(dir);
    expect(index.filter((e) => e.startsWith('50/'))).toEqual(['50/1/0/push/5']);
    expect(index).toHaveLength(4 * 3 + 1 + 1);
  });

  it("drops a topic's retry states and due entries with the topic; other topics keep theirs", async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    const retries = store.retries();
    await retries.put([retry({ offset: 1 }, 100), retry({ partition: 5, subscription: 'search', offset: 2 }, 0), retry({ topicId: 2, offset: 1 }, 200)]);
    const accepted = retries.put([retry({ offset: 3 }, 300)]);
    const dropping = store.dropTopic(1);
    expect(await rejection(retries.put([retry({ offset: 4 }, 5)]))).toBeInstanceOf(FailedPreconditionError);
    expect(await rejection(retries.list(1, 0, 'push'))).toBeInstanceOf(FailedPreconditionError);
    await Promise.all([accepted, dropping]);
    expect(await retries.list(1, 0, 'push')).toEqual([]);
    expect(await retries.list(1, 5, 'search')).toEqual([]);
    expect(ids(await retries.due(Number.MAX_SAFE_INTEGER, 10))).toEqual(['200/2/0/push/1']);
    expect(await rawDueIndex(dir)).toEqual(['200/2/0/push/1']);
    expect(await rawStateCount(dir)).toBe(1);
  });

  it('finishes subscription and topic drops interrupted by a crash when it opens', async () => {
    const dir = tempDir();
    const store = await openStore(dir);
    await store.retries().put([
      retry({ offset: 1 }, 100),
      retry({ partition: 2, offset: 2 }, 0),
      retry({ subscription: 'search', offset: 1 }, 150),
      retry({ topicId: 2, subscription: 'search', offset: 1 }, 200),
      retry({ topicId: 3, offset: 1 }, 300),
    ]);
    await store.close();
    stores.splice(0);
    // A crash right after the markers were written: nothing else happened yet.
    const db = await Database.open(dir);
    await db.write(
      [
        { type: 'put', key: pendingRetryDropKey(1, 'push'), value: Buffer.from([1]) },
        { type: 'put', key: pendingTopicDropKey(2), value: Buffer.from([1]) },
      ],
      true,
    );
    await db.close();

    const logger = new MemoryLogger();
    const retries = (await openStore(dir, { logger })).retries();
    expect(logger.entries.some((e) => e.message?.includes('interrupted by a crash') && e.fields['subscription'] === 'push')).toBe(true);
    expect(await retries.list(1, 0, 'push')).toEqual([]);
    expect(await retries.list(1, 2, 'push')).toEqual([]);
    expect(await retries.list(2, 0, 'search')).toEqual([]);
    expect(ids(await retries.due(Number.MAX_SAFE_INTEGER, 10))).toEqual(['150/1/0/search/1', '300/3/0/push/1']);
    expect(await rawDueIndex(dir)).toEqual(['150/1/0/search/1', '300/3/0/push/1']);
    // The markers are gone: the next open has nothing to finish.
    const quiet = new MemoryLogger();
    await openStore(dir, { logger: quiet });
    expect(quiet.entries.some((e) => e.message?.includes('interrupted by a crash'))).toBe(false);
  });

  it('skips due entries without a matching state, then deletes them', async () => {
    const dir = tempDir();
    const db = await Database.open(dir);
    // Left by a bug or a corrupt value: an entry with no state, one whose state names another due time, one whose state does not decode.
    const good = retry({ offset: 3 }, 300);
    await db.write(
      [
        { type: 'put', key: retryDueKey(50, 1, 0, 'push', 1), value: Buffer.alloc(0) },
        { type: 'put', key: retryDueKey(60, 1, 0, 'push', 2), value: Buffer.alloc(0) },
        { type: 'put', key: retryStateKey(1, 0, 'push', 2), value: encodeRetryState(retry({ offset: 2 }, 400)) },
        { type: 'put', key: retryDueKey(400, 1, 0, 'push', 2), value: Buffer.alloc(0) },
        { type: 'put', key: retryDueKey(70, 1, 0, 'push', 4), value: Buffer.alloc(0) },
        { type: 'put', key: retryStateKey(1, 0, 'push', 4), value: Buffer.from([9, 9]) },
        { type: 'put', key: retryStateKey(1, 0, 'push', 3), value: encodeRetryState(good) },
        { type: 'put', key: retryDueKey(300, 1, 0, 'push', 3), value: Buffer.alloc(0) },
      ],
      true,
    );
    await db.close();
    const logger = new MemoryLogger();
    const retries = (await openStore(dir, { logger })).retries();
    expect(await retries.nextDueMs()).toBe(50);
    // The limit counts states returned, not entries skipped.
    expect(ids(await retries.due(1_000, 1))).toEqual(['300/1/0/push/3']);
    expect(ids(await retries.due(1_000, 10))).toEqual(['300/1/0/push/3', '400/1/0/push/2']);
    await expect.poll(() => retries.stats().orphanedDueEntries).toBe(3);
    expect(await retries.nextDueMs()).toBe(300);
    expect(logger.entries.some((e) => e.level === 'error' && e.message === 'stored retry state does not decode')).toBe(true);
    // A put over the undecodable state repairs it.
    await retries.put([retry({ offset: 4 }, 80)]);
    expect(await rawDueIndex(dir)).toEqual(['80/1/0/push/4', '300/1/0/push/3', '400/1/0/push/2']);
  });

  it('writes with the durability asked for', async () => {
    const store = await openStore(tempDir());
    await store.retries().put([retry({ offset: 1 }, 100)], 'fsync');
    expect(store.stats()).toMatchObject({ writeBatches: 1, syncedWriteBatches: 1 });
    await store.retries().remove([retry({ offset: 1 }, 0)]);
    expect(store.stats()).toMatchObject({ writeBatches: 2, syncedWriteBatches: 1 });
  });

  it('on close, writes every operation accepted before it; later calls are refused', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const retries = store.retries();
    const first = retries.put([retry({ offset: 1 }, 100)]);
    const second = retries.put([retry({ offset: 1 }, 200)]); // waits for the first
    const closing = store.close();
    await Promise.all([first, second, closing]);
    expect(await rejection(retries.put([retry({ offset: 2 }, 1)]))).toBeInstanceOf(ShuttingDownError);
    expect(await rejection(retries.due(1, 1))).toBeInstanceOf(ShuttingDownError);
    expect(await rejection(retries.dropSubscription(1, 'push'))).toBeInstanceOf(ShuttingDownError);
    store = await openStore(dir);
    expect(ids(await store.retries().due(1_000, 10))).toEqual(['200/1/0/push/1']);
  });

  it('rejects bad input', async () => {
    const retries = (await openStore(tempDir())).retries();
    expect(await rejection(retries.put([retry({ offset: 1.5 }, 1)]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.put([retry({ offset: 1 }, -1)]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.put([retry({ topicId: 2 ** 32, offset: 1 }, 1)]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.put([retry({ subscription: 'a b', offset: 1 }, 1)]))).toBeInstanceOf(InvalidNameError);
    expect(await rejection(retries.put([retry({ offset: 1 }, 1, { attempts: [{ ...attempt(1), disposition: 'ack' as 'nack' }] })]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.put([retry({ offset: 1 }, 1)], 'later' as 'write'))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.put(retry({ offset: 1 }, 1) as unknown as RetryState[]))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.remove([{ topicId: 1, partition: 0, subscription: '', offset: 1 }]))).toBeInstanceOf(InvalidNameError);
    expect(await rejection(retries.get({ topicId: 1, partition: -1, subscription: 'a', offset: 1 }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.due(1.5, 1))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.due(1, -1))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.due(1, 1, { dueMs: 1, key: { topicId: 1, partition: 0, subscription: 'a', offset: -1 } }))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(retries.list(1, 0, '..'))).toBeInstanceOf(InvalidNameError);
    expect(await rejection(retries.dropSubscription(-1, 'a'))).toBeInstanceOf(InvalidArgumentError);
    // A bad state in a batch fails the whole call before anything is written.
    expect(await rejection(retries.put([retry({ offset: 1 }, 1), retry({ offset: 2 }, 0.5)]))).toBeInstanceOf(InvalidArgumentError);
    expect(await retries.get(retry({ offset: 1 }, 0))).toBeUndefined();
  });
});
