/**
 * Durable retry state: per (topic, partition, subscription, offset) the
 * record's attempt ledger and when it may be delivered again, plus a due
 * index ordered by due time that the broker's retry timers page through.
 *
 * Two keyspaces (`keys.ts`): the state under `[0x07][topic][partition]
 * [subscription][0x00][offset]`, and for each state that waits for a timer
 * (`dueMs > 0`, not dead-lettering) an empty entry under `[0x08][dueMs]
 * [topic][partition][subscription][0x00][offset]`. Both change in the same
 * write batch, through the log store's group commit.
 *
 * **Keeping the index consistent.** Replacing or removing a state must
 * delete its old due entry, whose key holds the old due time; only the
 * stored state knows it (holding every due time in memory would cost what
 * the due index exists to avoid). So each `put`/`remove` first reads the
 * old states (one `getMany`), then writes; unless the caller says what it
 * stored last (`StoredDueTimes`: the broker keeps the states of the records
 * it is retrying in memory anyway), which skips the read. Operations on one key are
 * serialised: an operation starts only when the previous one on any of its
 * keys is written (or failed), so two concurrent puts of a key cannot both
 * read the same old state and leave a due entry behind. Operations on other
 * keys go ahead at once; their reads share one `getMany` per event-loop turn
 * (`ReadBatcher`) and their writes share group-commit batches.
 *
 * **Robustness.** `due()` checks each due entry against its state; an
 * entry whose state is gone or names another due time (a bug, a corrupt
 * value, or a state that moved while `due()` read) is skipped and, after a
 * re-check under the key's lock, deleted, so a stray entry can neither fire
 * nor hold the index's head forever.
 */
import { FailedPreconditionError, InvalidArgumentError, assertValidName } from '@braid/core';
import type { KeyRange, WriteOp } from './database.js';
import {
  Keyspace,
  decodeRetryDueKey,
  decodeRetryStateKey,
  keyspaceRange,
  prefixEnd,
  retryDueKey,
  retryDuePrefix,
  retryStateKey,
  retrySubscriptionRange,
} from './keys.js';
import type { Durability } from './partition-log.js';
import { ReadBatcher } from './read-batcher.js';
import { dropSubscriptionRetries } from './retry-drop.js';
import { assertRetryKey, assertRetryState, decodeRetryState, encodeRetryState, peekRetryDue, retryKeyId, waitsForTimer } from './retry-state.js';
import type { DuePosition, RetryKey, RetryState } from './retry-state.js';
import type { StoreContext } from './subscription-store.js';
import { assertU32, assertU53 } from './u64.js';

/**
 * What a caller knows of the stored states a `put` or `remove` replaces:
 * for each state or key, in order, the due time of its stored due entry
 * (`undefined`: it has none, or there is no state), as the caller last
 * wrote it. Given, the store writes without first reading the old states.
 * A wrong value cannot lose or corrupt a state; at worst it leaves an
 * orphaned due entry, which `due()` skips and deletes.
 */
export type StoredDueTimes = readonly (number | undefined)[];

/** What the retry store needs from its log store. @internal */
export type RetryStoreContext = StoreContext;

/** Counters of a {@link RetryStore}. */
export interface RetryStoreStats {
  /** States written by `put`. */
  statesWritten: number;
  /** States deleted by `remove` (not counting keys that had none). */
  statesRemoved: number;
  /** Due entries found without a matching state and deleted. */
  orphanedDueEntries: number;
  /** Keys with an operation queued or being written. */
  activeKeys: number;
}

/** The last operation on a key: settles (never rejects) when it is written or failed. */
interface Tail {
  readonly topicId: number;
  readonly partition: number;
  readonly subscription: string;
  readonly done: Promise<void>;
}

function checkDurability(durability: Durability): boolean {
  // Checked at run time too: the broker may map it from configuration.
  const mode: string = durability;
  if (mode !== 'fsync' && mode !== 'write') throw new InvalidArgumentError(`durability must be 'fsync' or 'write', got ${mode}`);
  return mode === 'fsync';
}

function checkStored(stored: StoredDueTimes | undefined, count: number): void {
  if (stored === undefined) return;
  const list: unknown = stored;
  if (!Array.isArray(list) || list.length !== count) {
    throw new InvalidArgumentError(`stored must have one due time per state or key (${count}), got ${Array.isArray(list) ? list.length : typeof list}`);
  }
  for (const dueMs of stored) if (dueMs !== undefined) assertU53('stored due time', dueMs);
}

function opBytes(ops: readonly WriteOp[]): number {
  return ops.reduce((sum, op) => sum + op.key.length + (op.type === 'put' ? op.value.length : 0), 0);
}

/**
 * Due entries read per page of `due()`: each page is one iterator run and
 * one `getMany`, and decoding it holds the event loop (~1-3 us per state),
 * so a large `limit` is served in pages that let timers and I/O run between
 * them.
 */
const DUE_PAGE = 1_000;

const subscriptionId = (topicId: number, subscription: string): string => `${topicId}/${subscription}`;

/** `[0x07]` + the tuple of a due key: the state key it points at (no re-validation). */
const stateKeyOfDueKey = (dueKey: Buffer): Buffer => {
  const key = Buffer.allocUnsafe(dueKey.length - 8);
  key[0] = Keyspace.retry;
  dueKey.copy(key, 1, 9);
  return key;
};

/** The end (exclusive) of the due entries with due time <= `untilMs`. */
function dueIndexEnd(untilMs: number): Buffer | undefined {
  return untilMs >= Number.MAX_SAFE_INTEGER ? prefixEnd(Buffer.from([Keyspace.retryDue])) : retryDuePrefix(untilMs + 1);
}

/**
 * Durable retry states and their due index, sharing the log store's
 * database and group commit. Get it from `LogStore.retries()`; see the file
 * comment for how the index stays consistent.
 */
export class RetryStore {
  private readonly tails = new Map<string, Tail>();
  /** Subscriptions whose states are being dropped, by `topicId/subscription`. */
  private readonly dropping = new Map<string, { topicId: number; done: Promise<void> }>();
  private readonly counters = { statesWritten: 0, statesRemoved: 0, orphanedDueEntries: 0 };

  /** Reads of old states (before a put or remove), one `getMany` per event-loop turn. */
  private readonly reads: ReadBatcher;

  /** @internal Created by `LogStore`. */
  constructor(private readonly context: RetryStoreContext) {
    this.reads = new ReadBatcher(context.db);
  }

  /**
   * Inserts or replaces `states` (and their due-index entries) atomically,
   * in one write batch through the group commit; resolves once written as
   * `durability` asks (`write`, the default: survives a process crash;
   * `fsync`: survives power loss). A state with `dueMs` 0 or
   * `deadLettering` set gets no due entry (see `due`). The states are
   * encoded when `put` is called: the caller may change its objects
   * afterwards. The ledger is bounded when stored (`retry-state.ts`). If a
   * key appears twice, the last state wins.
   *
   * Rejects with `InvalidArgumentError`/`InvalidNameError` for bad input,
   * `FailedPreconditionError` while the topic or the subscription's retry
   * states are being dropped, `ShuttingDownError` after `close()` and
   * `UnavailableError` once a RocksDB write failed. With `stored` (one
   * entry per state), the old states are not read (see `StoredDueTimes`).
   */
  async put(states: RetryState[], durability: Durability = 'write', stored?: StoredDueTimes): Promise<void> {
    const sync = checkDurability(durability);
    if (!Array.isArray(states)) throw new InvalidArgumentError('put takes an array of retry states');
    checkStored(stored, states.length);
    const byId = new Map<string, { state: RetryState; key: Buffer; value: Buffer; storedDue: number | undefined }>();
    states.forEach((state, i) => {
      assertRetryState(state);
      const key = retryStateKey(state.topicId, state.partition, state.subscription, state.offset);
      byId.set(retryKeyId(state), { state, key, value: encodeRetryState(state), storedDue: stored?.[i] });
    });
    const items = [...byId.values()];
    this.checkWritable(items.map((e) => e.state));
    if (items.length === 0) return;
    return this.serialize(
      items.map((e) => e.state),
      [...byId.keys()],
      async () => {
        const olds = stored ? undefined : await this.reads.getMany(items.map((e) => e.key));
        const ops: WriteOp[] = [];
        items.forEach(({ state, key, value, storedDue }, i) => {
          const oldDue = olds ? this.storedDueMs(state, olds[i]) : storedDue;
          const newDue = waitsForTimer(state) ? state.dueMs : undefined;
          if (oldDue !== undefined && oldDue !== newDue) ops.push({ type: 'del', key: retryDueKey(oldDue, state.topicId, state.partition, state.subscription, state.offset) });
          ops.push({ type: 'put', key, value });
          if (newDue !== undefined) ops.push({ type: 'put', key: retryDueKey(newDue, state.topicId, state.partition, state.subscription, state.offset), value: Buffer.alloc(0) });
        });
        await this.write(ops, sync);
        this.counters.statesWritten += items.length;
      },
    );
  }

  /**
   * Deletes the states of `keys` (settled or dead-lettered records) and
   * their due entries, atomically; keys without a state are skipped.
   * Resolves once written as `durability` asks; rejects as `put` does.
   * With `stored` (one entry per key), the old states are not read (see
   * `StoredDueTimes`) and each key's state is deleted whether it had one
   * or not.
   */
  async remove(keys: readonly RetryKey[], durability: Durability = 'write', stored?: StoredDueTimes): Promise<void> {
    const sync = checkDurability(durability);
    const list: unknown = keys;
    if (!Array.isArray(list)) throw new InvalidArgumentError('remove takes an array of retry keys');
    checkStored(stored, keys.length);
    const byId = new Map<string, { key: RetryKey; stateKey: Buffer; storedDue: number | undefined }>();
    keys.forEach((key, i) => {
      assertRetryKey(key);
      byId.set(retryKeyId(key), { key, stateKey: retryStateKey(key.topicId, key.partition, key.subscription, key.offset), storedDue: stored?.[i] });
    });
    const items = [...byId.values()];
    this.checkWritable(items.map((e) => e.key));
    if (items.length === 0) return;
    return this.serialize(
      items.map((e) => e.key),
      [...byId.keys()],
      async () => {
        const olds = stored ? undefined : await this.reads.getMany(items.map((e) => e.stateKey));
        const ops: WriteOp[] = [];
        items.forEach(({ key, stateKey, storedDue }, i) => {
          if (olds && olds[i] === undefined) return;
          const oldDue = olds ? this.storedDueMs(key, olds[i]) : storedDue;
          ops.push({ type: 'del', key: stateKey });
          if (oldDue !== undefined) ops.push({ type: 'del', key: retryDueKey(oldDue, key.topicId, key.partition, key.subscription, key.offset) });
        });
        if (ops.length === 0) return;
        await this.write(ops, sync);
        this.counters.statesRemoved += ops.filter((op) => op.key[0] === Keyspace.retry).length;
      },
    );
  }

  /**
   * The state of `key`, or undefined. Operations on the key accepted before
   * this call are written first (read your writes). Rejects with
   * `InvalidArgumentError`/`InvalidNameError` for a bad key,
   * `FailedPreconditionError` while the topic is being dropped and
   * `ShuttingDownError` after `close()`.
   */
  async get(key: RetryKey): Promise<RetryState | undefined> {
    assertRetryKey(key);
    const stateKey = retryStateKey(key.topicId, key.partition, key.subscription, key.offset);
    this.context.checkReadable();
    this.context.checkTopic(key.topicId);
    await this.tails.get(retryKeyId(key))?.done;
    const value = await this.context.db.get(stateKey);
    return value === undefined ? undefined : decodeRetryState(key, value);
  }

  /**
   * States that wait for a timer and are due by `untilMs` (`dueMs <=
   * untilMs`), ascending by due time (ties in key order), at most `limit`,
   * across all topics and subscriptions. With `after`, only those after
   * that position (pass the last state of the previous page, or `{ dueMs }`
   * to skip everything due at or before `dueMs`): the timers page through
   * the index with it without seeing a state twice.
   *
   * States with `dueMs` 0 ("at once") and dead-lettering ones are never
   * returned: they have no due entry, and the broker finds them with
   * `list` when it loads a subscription partition. `due` reads what is
   * written; it does not wait for operations in progress.
   */
  async due(untilMs: number, limit: number, after?: DuePosition): Promise<RetryState[]> {
    assertU53('untilMs', untilMs);
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`limit must be an integer >= 0, got ${limit}`);
    let start: KeyRange;
    if (after === undefined) {
      start = { gte: retryDuePrefix(1) };
    } else {
      assertU53('after.dueMs', after.dueMs);
      if (after.key !== undefined) {
        assertRetryKey(after.key);
        start = { gt: retryDueKey(after.dueMs, after.key.topicId, after.key.partition, after.key.subscription, after.key.offset) };
      } else {
        if (after.dueMs >= Number.MAX_SAFE_INTEGER) return [];
        start = { gte: retryDuePrefix(after.dueMs + 1) };
      }
    }
    this.context.checkReadable();
    const end = dueIndexEnd(untilMs);
    const found: RetryState[] = [];
    const orphans: { key: RetryKey; dueMs: number }[] = [];
    let range: KeyRange = end ? { ...start, lt: end } : start;
    while (limit > found.length) {
      const want = Math.min(limit - found.length, DUE_PAGE);
      const dueKeys: Buffer[] = [];
      for await (const [key] of this.context.db.entries({ ...range, limit: want }, { values: false })) dueKeys.push(key);
      const last = dueKeys.at(-1);
      if (last === undefined) break;
      const values = await this.context.db.getMany(dueKeys.map(stateKeyOfDueKey));
      dueKeys.forEach((dueKey, i) => {
        const { dueMs, ...key } = decodeRetryDueKey(dueKey);
        const state = this.decodeOrUndefined(key, values[i]);
        if (state && waitsForTimer(state) && state.dueMs === dueMs) found.push(state);
        else orphans.push({ key, dueMs });
      });
      if (dueKeys.length < want) break;
      range = end ? { gt: last, lt: end } : { gt: last };
    }
    if (orphans.length > 0) void this.dropOrphans(orphans);
    return found;
  }

  /**
   * The earliest due time in the due index, or undefined when no state
   * waits for a timer. Reads the index's first entry only: it is not
   * checked against its state (`due` does that).
   */
  async nextDueMs(): Promise<number | undefined> {
    this.context.checkReadable();
    const first = await this.context.db.first({ ...keyspaceRange(Keyspace.retryDue) });
    return first ? decodeRetryDueKey(first[0]).dueMs : undefined;
  }

  /**
   * Every state of `subscription` on (`topicId`, `partition`), ascending by
   * offset, waiting or not (for loading after a restart). Operations on the
   * subscription partition accepted before this call are written first.
   * Rejects with `InvalidArgumentError`/`InvalidNameError` for bad input,
   * `FailedPreconditionError` while the topic is being dropped and
   * `ShuttingDownError` after `close()`.
   */
  async list(topicId: number, partition: number, subscription: string): Promise<RetryState[]> {
    const range = await this.writtenRange(topicId, partition, subscription);
    const states: RetryState[] = [];
    for await (const [key, value] of this.context.db.entries(range)) states.push(decodeRetryState(decodeRetryStateKey(key), value));
    return states;
  }

  /**
   * How many states `subscription` has on (`topicId`, `partition`), as
   * `list` would return them, counted over the keys alone (no value read or
   * decoded: the broker's gauges ask it at every scrape, of partitions that
   * may hold a million delayed records). Rejects as `list` does.
   */
  async count(topicId: number, partition: number, subscription: string): Promise<number> {
    const range = await this.writtenRange(topicId, partition, subscription);
    let count = 0;
    for await (const [key] of this.context.db.entries(range, { values: false })) if (key.length > 0) count++;
    return count;
  }

  /** The key range of a subscription partition's states, once the operations accepted on it so far are written. */
  private async writtenRange(topicId: number, partition: number, subscription: string): Promise<KeyRange> {
    const range = retrySubscriptionRange(topicId, partition, subscription);
    this.context.checkReadable();
    this.context.checkTopic(topicId);
    const busy = [...this.tails.values()].filter((t) => t.topicId === topicId && t.partition === partition && t.subscription === subscription);
    await Promise.all(busy.map((t) => t.done));
    return range;
  }

  /**
   * Deletes every state of `subscription` on every partition of `topicId`
   * (the subscription was deleted), with their due entries. Operations on
   * the subscription accepted before this call finish first; new ones
   * reject with `FailedPreconditionError` until it is done. Crash-safe: an
   * interrupted drop is finished when the store next opens. A call while a
   * drop of the same subscription runs joins it. Rejects as `put` does.
   */
  async dropSubscription(topicId: number, subscription: string): Promise<void> {
    assertU32('topicId', topicId);
    assertValidName('subscription', subscription);
    this.context.checkWritable();
    this.context.checkTopic(topicId);
    const id = subscriptionId(topicId, subscription);
    const running = this.dropping.get(id);
    if (running) return running.done;
    const accepted = [...this.tails.values()].filter((t) => t.topicId === topicId && t.subscription === subscription).map((t) => t.done);
    const done = (async () => {
      try {
        await Promise.all(accepted);
        const deleted = await dropSubscriptionRetries(this.context.db, topicId, subscription, this.context.logger);
        this.context.logger.info({ topicId, subscription, deleted }, "subscription's retry states dropped");
      } finally {
        this.dropping.delete(id);
      }
    })();
    this.dropping.set(id, { topicId, done: done.then(() => undefined, () => undefined) });
    return done;
  }

  /** Counters. */
  stats(): RetryStoreStats {
    return { ...this.counters, activeKeys: this.tails.size };
  }

  /**
   * Resolves once every operation and subscription drop accepted so far
   * for `topicId` (or for every topic) is written or failed. The log store
   * refuses new ones first (topic drop, close), so this ends.
   * @internal
   */
  async settle(topicId?: number): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const tail of this.tails.values()) if (topicId === undefined || tail.topicId === topicId) waits.push(tail.done);
    for (const drop of this.dropping.values()) if (topicId === undefined || drop.topicId === topicId) waits.push(drop.done);
    await Promise.all(waits);
  }

  /** Throws unless writes of these keys are taken now. */
  private checkWritable(keys: Iterable<RetryKey>): void {
    this.context.checkWritable();
    for (const key of keys) {
      this.context.checkTopic(key.topicId);
      if (this.dropping.has(subscriptionId(key.topicId, key.subscription))) {
        throw new FailedPreconditionError(`the retry states of subscription ${key.subscription} on topic ${key.topicId} are being dropped`, {
          metadata: { topicId: String(key.topicId), subscription: key.subscription },
        });
      }
    }
  }

  /**
   * Runs `task` once the previous operation on each of `ids` has settled,
   * and makes it the one later operations on them wait for.
   */
  private serialize(keys: RetryKey[], ids: string[], task: () => Promise<void>): Promise<void> {
    const before: Promise<void>[] = [];
    for (const id of ids) {
      const tail = this.tails.get(id);
      if (tail) before.push(tail.done);
    }
    const run = Promise.all(before).then(task);
    // Later operations wait for this one whatever its outcome; each caller sees the outcome through `run`.
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    keys.forEach((key, i) => {
      const id = ids[i];
      if (id !== undefined) this.tails.set(id, { topicId: key.topicId, partition: key.partition, subscription: key.subscription, done });
    });
    void done.then(() => {
      // Idle keys go, so memory follows the keys being written, not all there ever were.
      for (const id of ids) if (this.tails.get(id)?.done === done) this.tails.delete(id);
    });
    return run;
  }

  /** Hands `ops` to the group commit as one entry; resolves once durable. */
  private write(ops: WriteOp[], sync: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.context.commit.submit({
        // Serialisation per key happens above; each write is its own lane.
        lane: {},
        ops,
        bytes: opBytes(ops),
        sync,
        onDurable: resolve,
        onFailed: reject,
      });
    });
  }

  /** The due time of a stored value's due entry, if it has one (read from the value's header). */
  private storedDueMs(key: RetryKey, value: Buffer | undefined): number | undefined {
    if (value === undefined) return undefined;
    try {
      const header = peekRetryDue(value);
      return waitsForTimer(header) ? header.dueMs : undefined;
    } catch (error) {
      // Overwritten or removed regardless; a due entry it had is found and dropped by `due()`.
      this.context.logger.error({ err: error, ...key }, 'stored retry state does not decode');
      return undefined;
    }
  }

  private decodeOrUndefined(key: RetryKey, value: Buffer | undefined): RetryState | undefined {
    if (value === undefined) return undefined;
    try {
      return decodeRetryState(key, value);
    } catch (error) {
      // Overwritten or removed regardless; a due entry it had is found and dropped by `due()`.
      this.context.logger.error({ err: error, ...key }, 'stored retry state does not decode');
      return undefined;
    }
  }

  /** Deletes due entries found without a matching state, each after a re-check under its key's lock. */
  private async dropOrphans(orphans: { key: RetryKey; dueMs: number }[]): Promise<void> {
    try {
      this.context.checkWritable();
    } catch {
      return; // closing or failed: the entries are found again after the restart
    }
    const ids = orphans.map((o) => retryKeyId(o.key));
    try {
      await this.serialize(
        orphans.map((o) => o.key),
        ids,
        async () => {
          const dueKeys = orphans.map(({ key, dueMs }) => retryDueKey(dueMs, key.topicId, key.partition, key.subscription, key.offset));
          const [values, entries] = await Promise.all([
            this.context.db.getMany(orphans.map(({ key }) => retryStateKey(key.topicId, key.partition, key.subscription, key.offset))),
            this.context.db.getMany(dueKeys),
          ]);
          const ops: WriteOp[] = [];
          orphans.forEach(({ key, dueMs }, i) => {
            const dueKey = dueKeys[i];
            // Gone already (the state moved while `due()` read it), or the state moved back to this due time: nothing to drop.
            if (dueKey === undefined || entries[i] === undefined || this.storedDueMs(key, values[i]) === dueMs) return;
            ops.push({ type: 'del', key: dueKey });
          });
          if (ops.length === 0) return;
          await this.write(ops, false);
          this.counters.orphanedDueEntries += ops.length;
          this.context.logger.warn({ entries: ops.length }, 'deleted retry due entries without a matching state');
        },
      );
    } catch (error) {
      this.context.logger.warn({ err: error }, 'could not delete orphaned retry due entries; due() skips them meanwhile');
    }
  }
}
