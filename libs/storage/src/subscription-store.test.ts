import { FailedPreconditionError, InvalidArgumentError, InvalidNameError, ShuttingDownError, UnavailableError, silentLogger } from '@braid/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualWriter, tick } from '../test/manual-writer.js';
import type { ManualBatch } from '../test/manual-writer.js';
import { payloads, tempDir } from '../test/temp-dir.js';
import { Database } from './database.js';
import { GroupCommit } from './group-commit.js';
import { decodeSubscriptionKey } from './keys.js';
import { LogStore } from './log-store.js';
import type { LogStoreOptions } from './log-store.js';
import { OffsetRangeSet } from './offset-range-set.js';
import { decodeSubscriptionState, newSubscriptionState } from './subscription-state.js';
import type { SubscriptionPartitionState } from './subscription-state.js';
import { SubscriptionStore } from './subscription-store.js';
import { rejection } from '../test/rejection.js';

const stores: LogStore[] = [];
const databases: Database[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const db of databases.splice(0)) await db.close();
});

async function openStore(dir: string, options: LogStoreOptions = {}): Promise<LogStore> {
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0, ...options });
  stores.push(store);
  return store;
}

function state(cursor: number, acked: [number, number][] = [], attempts: [number, number][] = []): SubscriptionPartitionState {
  const set = new OffsetRangeSet();
  for (const [first, last] of acked) set.add(first, last);
  return { cursor, acked: set, attempts: new Map(attempts) };
}

/** A state as plain data, for comparisons. */
const plain = (s: SubscriptionPartitionState | undefined): unknown =>
  s && { cursor: s.cursor, acked: s.acked.ranges().map((r) => [r.first, r.last]), attempts: [...s.attempts].sort((a, b) => a[0] - b[0]) };

describe('SubscriptionStore', () => {
  it('saves and loads a state; a subscription never saved loads as undefined', async () => {
    const subs = (await openStore(tempDir())).subscriptions();
    expect(await subs.load(1, 0, 'billing')).toBeUndefined();
    await subs.save(1, 0, 'billing', state(7, [[9, 12], [20, 20]], [[7, 3], [8, 1]]));
    expect(plain(await subs.load(1, 0, 'billing'))).toEqual({ cursor: 7, acked: [[9, 12], [20, 20]], attempts: [[7, 3], [8, 1]] });
    // Another partition, topic or name is another state.
    expect(await subs.load(1, 1, 'billing')).toBeUndefined();
    expect(await subs.load(2, 0, 'billing')).toBeUndefined();
    expect(await subs.load(1, 0, 'billing2')).toBeUndefined();
  });

  it("lists a partition's subscriptions in name order and deletes one", async () => {
    const subs = (await openStore(tempDir())).subscriptions();
    await Promise.all([
      subs.save(3, 1, 'search', state(5)),
      subs.save(3, 1, 'analytics', state(9, [[11, 11]])),
      subs.save(3, 1, 'push', state(1)),
      subs.save(3, 2, 'search', state(100)),
      subs.save(4, 1, 'search', state(200)),
    ]);
    const listed = await subs.list(3, 1);
    expect(listed.map((e) => [e.name, plain(e.state)])).toEqual([
      ['analytics', { cursor: 9, acked: [[11, 11]], attempts: [] }],
      ['push', { cursor: 1, acked: [], attempts: [] }],
      ['search', { cursor: 5, acked: [], attempts: [] }],
    ]);
    await subs.delete(3, 1, 'push');
    expect(await subs.load(3, 1, 'push')).toBeUndefined();
    expect((await subs.list(3, 1)).map((e) => e.name)).toEqual(['analytics', 'search']);
    expect(await subs.list(9, 9)).toEqual([]);
  });

  it('reads every state back after a reopen', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const saves: Promise<void>[] = [];
    for (let topic = 1; topic <= 3; topic++) {
      for (let partition = 0; partition < 3; partition++) {
        for (const name of ['a', 'b']) {
          saves.push(store.subscriptions().save(topic, partition, name, state(topic * 100 + partition * 10, [[1000, 1000 + topic]], [[topic * 100 + partition * 10, topic]]), 'fsync'));
        }
      }
    }
    await Promise.all(saves);
    await store.close();

    store = await openStore(dir);
    const subs = store.subscriptions();
    expect(plain(await subs.load(2, 1, 'b'))).toEqual({ cursor: 210, acked: [[1000, 1002]], attempts: [[210, 2]] });
    for (let topic = 1; topic <= 3; topic++) {
      for (let partition = 0; partition < 3; partition++) {
        const listed = await subs.list(topic, partition);
        expect(listed.map((e) => [e.name, e.state.cursor])).toEqual([
          ['a', topic * 100 + partition * 10],
          ['b', topic * 100 + partition * 10],
        ]);
      }
    }
  });

  it('coalesces the saves of one tick into one write of the newest state', async () => {
    const store = await openStore(tempDir());
    const subs = store.subscriptions();
    // The broker's live state, changed by every ack and saved after each.
    const live = newSubscriptionState(0);
    const saves: Promise<void>[] = [];
    for (let offset = 0; offset < 500; offset++) {
      live.acked.add(offset);
      live.cursor = live.acked.advance(live.cursor);
      saves.push(subs.save(1, 0, 'hot', live));
    }
    await Promise.all(saves);
    expect(subs.stats()).toEqual({ requests: 500, writes: 1, coalesced: 499, activeLanes: 0 });
    expect(plain(await subs.load(1, 0, 'hot'))).toEqual({ cursor: 500, acked: [], attempts: [] });
  });

  it('under a stream of out-of-order acks writes far fewer states than it saves, resolving saves in order', async () => {
    const store = await openStore(tempDir());
    const subs = store.subscriptions();
    const live = newSubscriptionState(0);
    const saves: Promise<void>[] = [];
    const resolved: number[] = [];
    const N = 2000;
    for (let i = 0; i < N; i++) {
      // Acks arrive reversed within blocks of 8, so the acked set holds ranges above the cursor.
      const offset = i - (i % 8) + (7 - (i % 8));
      live.acked.add(offset);
      live.cursor = live.acked.advance(live.cursor);
      live.attempts.delete(offset);
      live.attempts.set(offset + 8, 1); // delivered, not yet acknowledged
      saves.push(subs.save(1, 0, 'acks', live).then(() => { resolved.push(i); }));
      // A few acks per tick, as a busy Subscribe stream delivers them; writes complete in between.
      if (i % 5 === 4) await tick();
    }
    await Promise.all(saves);
    expect(resolved).toEqual(Array.from({ length: N }, (_, i) => i));
    const stats = subs.stats();
    expect(stats.requests).toBe(N);
    expect(stats.writes).toBeLessThanOrEqual(N / 5);
    expect(stats.writes + stats.coalesced).toBe(N);
    expect(plain(await subs.load(1, 0, 'acks'))).toEqual({
      cursor: N,
      acked: [],
      attempts: Array.from({ length: 8 }, (_, k) => [N + k, 1]),
    });
  });

  it('shares write batches with appends', async () => {
    const store = await openStore(tempDir(), { groupCommit: { maxInFlightBatches: 1 } });
    const log = store.partition(1, 0);
    const first = log.append({ payloads: payloads(1), timestampMs: 1 }, 'write');
    await tick(); // the first append is in flight: what follows queues behind it
    const together = [log.append({ payloads: payloads(1), timestampMs: 1 }, 'write'), store.subscriptions().save(1, 0, 's', state(1), 'fsync')];
    await Promise.all([first, ...together]);
    expect(store.stats()).toMatchObject({ writeBatches: 2, syncedWriteBatches: 1, entriesWritten: 3 });
  });

  it('clamps a cursor below the log start on load, then moves it over acks right after it', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const log = store.partition(1, 0);
    await log.append({ payloads: payloads(10), timestampMs: 1 }, 'fsync'); // 57 stored bytes each
    await log.setRetention({ maxAgeMs: 0, maxBytes: 4 * 57 });
    await store.runRetentionOnce();
    expect(log.logStartOffset).toBe(6);
    // Saved by a consumer that fell behind retention: offsets 2-5 are gone.
    await store.subscriptions().save(1, 0, 'slow', state(2, [[3, 4], [6, 7], [9, 9]], [[2, 1], [5, 2], [8, 3]]));
    const expected = { cursor: 8, acked: [[9, 9]], attempts: [[8, 3]] };
    expect(plain(await store.subscriptions().load(1, 0, 'slow'))).toEqual(expected);
    expect(plain((await store.subscriptions().list(1, 0))[0]?.state)).toEqual(expected);
    await store.close();

    store = await openStore(dir);
    expect(plain(await store.subscriptions().load(1, 0, 'slow'))).toEqual(expected);
  });

  it("drops a topic's subscription state with the topic; accepted saves finish first and do not bring it back", async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    let subs = store.subscriptions();
    await Promise.all([subs.save(1, 0, 'a', state(5)), subs.save(1, 1, 'b', state(6)), subs.save(2, 0, 'a', state(7))]);

    const events: string[] = [];
    const inFlight = subs.save(1, 0, 'a', state(98));
    await Promise.resolve(); // a@98 is handed to the group commit; a@99 queues behind it
    const accepted = subs.save(1, 0, 'a', state(99)).then(() => events.push('save'));
    const dropping = store.dropTopic(1).then(() => events.push('drop'));
    expect(await rejection(subs.save(1, 0, 'a', state(100)))).toBeInstanceOf(FailedPreconditionError);
    expect(await rejection(subs.load(1, 1, 'b'))).toBeInstanceOf(FailedPreconditionError);
    await Promise.all([inFlight, accepted, dropping]);
    expect(events).toEqual(['save', 'drop']);

    expect(await subs.load(1, 0, 'a')).toBeUndefined();
    expect(await subs.list(1, 1)).toEqual([]);
    expect(plain(await subs.load(2, 0, 'a'))).toMatchObject({ cursor: 7 });
    // The topic id starts afresh, as its logs do.
    await subs.save(1, 0, 'a', state(1));
    await store.close();

    store = await openStore(dir);
    subs = store.subscriptions();
    expect(plain(await subs.load(1, 0, 'a'))).toMatchObject({ cursor: 1 });
    expect(await subs.list(1, 1)).toEqual([]);
    expect(plain(await subs.load(2, 0, 'a'))).toMatchObject({ cursor: 7 });
  });

  it('on close, writes every save accepted before it, also one queued behind a write', async () => {
    const dir = tempDir();
    let store = await openStore(dir);
    const subs = store.subscriptions();
    const first = subs.save(1, 0, 's', state(1));
    await Promise.resolve(); // the first save is handed to the group commit: the next one queues behind it
    const second = subs.save(1, 0, 's', state(2));
    const closing = store.close();
    await Promise.all([first, second, closing]);
    expect(await rejection(subs.save(1, 0, 's', state(3)))).toBeInstanceOf(ShuttingDownError);
    expect(await rejection(subs.load(1, 0, 's'))).toBeInstanceOf(ShuttingDownError);

    store = await openStore(dir);
    expect(plain(await store.subscriptions().load(1, 0, 's'))).toMatchObject({ cursor: 2 });
  });

  it('lets load and list see saves accepted before them', async () => {
    const subs = (await openStore(tempDir())).subscriptions();
    void subs.save(1, 0, 'a', state(10));
    expect(plain(await subs.load(1, 0, 'a'))).toMatchObject({ cursor: 10 });
    void subs.save(1, 0, 'b', state(20));
    void subs.delete(1, 0, 'a');
    expect((await subs.list(1, 0)).map((e) => [e.name, e.state.cursor])).toEqual([['b', 20]]);
  });

  it('rejects bad input; a bad attempt entry fails its own save only', async () => {
    const subs = (await openStore(tempDir())).subscriptions();
    expect(await rejection(subs.save(1, 0, 'no/slash', state(1)))).toBeInstanceOf(InvalidNameError);
    expect(await rejection(subs.load(1, 0, ''))).toBeInstanceOf(InvalidNameError);
    expect(await rejection(subs.save(2 ** 32, 0, 'a', state(1)))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(subs.save(1, 0, 'a', state(-1)))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(subs.save(1, 0, 'a', { cursor: 1, acked: [], attempts: new Map() } as unknown as SubscriptionPartitionState))).toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(await rejection(subs.save(1, 0, 'a', state(1), 'later' as 'write'))).toBeInstanceOf(InvalidArgumentError);
    expect(await rejection(subs.save(1, 0, 'a', state(1, [], [[5, 0.5]])))).toBeInstanceOf(InvalidArgumentError);
    await subs.save(1, 0, 'a', state(2));
    expect(plain(await subs.load(1, 0, 'a'))).toMatchObject({ cursor: 2 });
    expect(await rejection(LogStore.open(tempDir(), { subscriptions: { maxStoredAttempts: -1 } }))).toBeInstanceOf(RangeError);
  });

  it('stores at most maxStoredAttempts attempt counts', async () => {
    const subs = (await openStore(tempDir(), { subscriptions: { maxStoredAttempts: 2 } })).subscriptions();
    await subs.save(1, 0, 'a', state(0, [], [[0, 1], [1, 5], [2, 1], [3, 4]]));
    expect(plain(await subs.load(1, 0, 'a'))).toMatchObject({ attempts: [[1, 5], [3, 4]] });
  });
});

/** A subscription store over a scripted writer; only `load`/`list` would read its database, and these tests do not call them. */
async function scripted(): Promise<{ writer: ManualWriter; subs: SubscriptionStore }> {
  const db = await Database.open(tempDir());
  databases.push(db);
  const writer = new ManualWriter();
  const commit = new GroupCommit(writer, { maxInFlightBatches: 4 });
  const subs = new SubscriptionStore({
    db,
    commit,
    logger: silentLogger,
    checkWritable: () => {
      if (commit.failed) throw commit.failed;
    },
    checkReadable: () => undefined,
    checkTopic: () => undefined,
    logStartOffset: () => 0,
  });
  return { writer, subs };
}

/** The states a batch writes, as `name@cursor` (`name deleted` for deletes). */
const written = (batch: ManualBatch | undefined): string[] =>
  (batch?.ops ?? []).map((op) => {
    const { subscription } = decodeSubscriptionKey(op.key);
    return op.type === 'put' ? `${subscription}@${decodeSubscriptionState(op.value).cursor}` : `${subscription} deleted`;
  });

describe('SubscriptionStore lanes (scripted writes)', () => {
  it("settles one topic's lanes without waiting for other topics'", async () => {
    const { writer, subs } = await scripted();
    void subs.save(2, 0, 'other', state(1));
    await tick();
    void subs.save(1, 0, 'a', state(1));
    await tick();
    void subs.save(1, 0, 'a', state(2)); // queued behind a@1
    let settled = false;
    const settling = subs.settle(1).then(() => { settled = true; });
    writer.batches[1]?.finish();
    await tick();
    expect(writer.batches.map(written)).toEqual([['other@1'], ['a@1'], ['a@2']]);
    expect(settled).toBe(false); // a@2 is being written
    writer.batches[2]?.finish();
    await settling;
    // Topic 2's write is still in flight: settle(1) did not wait for it.
    expect(subs.stats().activeLanes).toBe(1);
  });

  it('never has two writes of one subscription partition in flight; other lanes go ahead; queued saves become one write', async () => {
    const { writer, subs } = await scripted();
    const events: string[] = [];
    const save = (name: string, cursor: number, durability: 'write' | 'fsync' = 'write'): void => {
      void subs.save(1, 0, name, state(cursor), durability).then(() => events.push(`${name}@${cursor}`));
    };
    save('a', 1);
    await tick();
    save('b', 1);
    await tick();
    // a@1 is in flight; b, another lane, does not wait for it.
    expect(writer.batches.map(written)).toEqual([['a@1'], ['b@1']]);
    save('a', 2);
    await tick();
    save('a', 3, 'fsync');
    save('a', 4);
    await tick();
    expect(writer.batches).toHaveLength(2); // a's saves wait for a@1

    writer.batches[1]?.finish();
    await tick();
    expect(events).toEqual(['b@1']);
    writer.batches[0]?.finish();
    await tick();
    // The three queued saves become one write of the newest state, synced because one of them asked.
    expect(events).toEqual(['b@1', 'a@1']);
    expect(writer.batches.slice(2).map(written)).toEqual([['a@4']]);
    expect(writer.batches[2]?.sync).toBe(true);
    writer.batches[2]?.finish();
    await tick();
    expect(events).toEqual(['b@1', 'a@1', 'a@2', 'a@3', 'a@4']);
    expect(subs.stats()).toEqual({ requests: 5, writes: 3, coalesced: 2, activeLanes: 0 });
    expect(writer.maxInFlight).toBe(2);
  });

  it('orders deletes with saves: the newest request of a lane wins', async () => {
    const { writer, subs } = await scripted();
    void subs.save(1, 0, 'a', state(1));
    void subs.delete(1, 0, 'a');
    void subs.save(1, 0, 'b', state(1));
    await tick();
    expect(writer.batches.map(written)).toEqual([['a deleted', 'b@1']]);
    void subs.save(1, 0, 'a', state(2));
    await tick();
    writer.batches[0]?.finish();
    await tick();
    expect(writer.batches.slice(1).map(written)).toEqual([['a@2']]);
  });

  it('fails the write in flight and the saves queued behind it when RocksDB fails, and refuses later saves', async () => {
    const { writer, subs } = await scripted();
    const a1 = subs.save(1, 0, 'a', state(1));
    await tick();
    const b1 = subs.save(1, 0, 'b', state(1));
    await tick();
    const a2 = subs.save(1, 0, 'a', state(2));
    await tick();
    writer.batches[0]?.finish(new Error('IO error: No space left on device'));
    expect(await rejection(a1)).toBeInstanceOf(UnavailableError);
    expect(await rejection(a2)).toBeInstanceOf(UnavailableError);
    // b@1 was in flight in another batch and its write succeeds: it was written, so it resolves.
    writer.batches[1]?.finish();
    await b1;
    expect(await rejection(subs.save(1, 0, 'c', state(1)))).toBeInstanceOf(UnavailableError);
    expect(subs.stats()).toMatchObject({ requests: 3, writes: 1, activeLanes: 0 });
  });
});
