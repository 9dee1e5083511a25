/**
 * Durable delivery state of subscriptions: one value per (topic, partition,
 * subscription) under `[0x04]`, written through the store's group commit
 * and read back as it is after a restart.
 *
 * Each (topic, partition, subscription) is a *lane*. A lane has at most one
 * write in the group commit at a time (so its writes land in the order they
 * were asked for, and a crash keeps a prefix of them), plus at most one
 * *next* request waiting. Requests that come while the lane is busy, or in
 * the same tick as the first, fold into that next request: only the newest
 * state needs writing, because each state supersedes the ones before it,
 * and every folded request resolves with the write that carries it. An
 * ack-heavy subscription therefore costs one state write per group-commit
 * round, not one per ack. (A write that waits in the group commit's queue
 * because every batch slot is busy can no longer take newer states; those
 * fold into the lane's next write, so a lane writes at most twice per
 * round.)
 *
 * The state is encoded when its write is formed, not when `save` is called,
 * so a caller may pass its live state and keep changing it: what is written
 * is at least as new as every save that resolves with it.
 */
import { InvalidArgumentError } from '@braid/core';
import type { Logger } from '@braid/core';
import type { Database, WriteOp } from './database.js';
import { subscriptionStoreDefaults } from './defaults.js';
import type { GroupCommit } from './group-commit.js';
import { decodeSubscriptionKey, subscriptionKey, subscriptionPartitionRange } from './keys.js';
import type { Durability } from './partition-log.js';
import {
  assertSubscriptionState,
  decodeSubscriptionState,
  encodeSubscriptionState,
  settleSubscriptionState,
} from './subscription-state.js';
import type { SubscriptionPartitionState } from './subscription-state.js';

/** Options of the {@link SubscriptionStore}; defaults in `defaults.ts`. */
export interface SubscriptionStoreOptions {
  /** Attempt counts stored per (partition, subscription) at most (default 10,000; 0 = none). */
  maxStoredAttempts?: number;
}

/** One subscription's state on a partition, as `list` returns it. */
export interface SubscriptionStateEntry {
  /** The subscription's name. */
  name: string;
  /** Its state, settled against the partition's log start (see `load`). */
  state: SubscriptionPartitionState;
}

/** Counters of a {@link SubscriptionStore}. */
export interface SubscriptionStoreStats {
  /** `save` and `delete` calls accepted. */
  requests: number;
  /** State writes (puts or deletes) that became durable. */
  writes: number;
  /** Requests folded into a later request of their lane instead of being written on their own. */
  coalesced: number;
  /** Lanes with a request queued or being written. */
  activeLanes: number;
}

/** What the subscription and retry stores need from their log store. @internal */
export interface StoreContext {
  readonly db: Database;
  readonly commit: GroupCommit;
  readonly logger: Logger;
  /** Throws unless the store takes writes (not closed, not failed). */
  checkWritable(): void;
  /** Throws unless the store is open. */
  checkReadable(): void;
  /** Throws `FailedPreconditionError` while `topicId` is being dropped. */
  checkTopic(topicId: number): void;
}

/** What the subscription store needs from its log store. @internal */
export interface SubscriptionStoreContext extends StoreContext {
  /** The partition's durable log start offset (0 for a partition the store does not know). */
  logStartOffset(topicId: number, partition: number): number;
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/** Requests of a lane folded into one write. */
interface Pending {
  /** The newest request's state; undefined for a delete. */
  state: SubscriptionPartitionState | undefined;
  /** Whether any folded request asked for fsync. */
  sync: boolean;
  waiters: Waiter[];
  /** Sequence number of the newest folded request. */
  seq: number;
}

/** One (topic, partition, subscription): its key and its write pipeline. */
class Lane {
  /** Accepted, not yet handed to the group commit. */
  next: Pending | undefined;
  /** In the group commit, not yet durable. */
  writing: Pending | undefined;
  flushScheduled = false;
  /** Sequence number of the last accepted request. */
  accepted = 0;
  /** Sequence number of the last request written or failed. */
  settled = 0;
  settleWaiters: { seq: number; resolve: () => void }[] = [];

  constructor(
    readonly id: string,
    readonly topicId: number,
    readonly partition: number,
    readonly name: string,
    readonly key: Buffer,
  ) {}
}

const laneId = (topicId: number, partition: number, name: string): string => `${topicId}/${partition}/${name}`;

function checkDurability(durability: Durability): boolean {
  // Checked at run time too: the broker may map it from configuration.
  const mode: string = durability;
  if (mode !== 'fsync' && mode !== 'write') throw new InvalidArgumentError(`durability must be 'fsync' or 'write', got ${mode}`);
  return mode === 'fsync';
}

/**
 * Durable subscription state, sharing the log store's database and group
 * commit. Get it from `LogStore.subscriptions()`; see the file comment for
 * how saves are ordered and coalesced.
 */
export class SubscriptionStore {
  private readonly lanes = new Map<string, Lane>();
  private readonly maxStoredAttempts: number;
  private readonly counters = { requests: 0, writes: 0, coalesced: 0 };

  /** @internal Created by `LogStore`. */
  constructor(
    private readonly context: SubscriptionStoreContext,
    options: SubscriptionStoreOptions = {},
  ) {
    const max = options.maxStoredAttempts ?? subscriptionStoreDefaults.maxStoredAttempts;
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`maxStoredAttempts must be an integer >= 0, got ${max}`);
    this.maxStoredAttempts = max;
  }

  /**
   * The state of subscription `name` on (`topicId`, `partition`), or
   * undefined if none was saved. Saves of it accepted before this call are
   * written first, so a load sees them.
   *
   * The state is settled against the partition: a cursor below the log
   * start (retention deleted those records) is raised to it, and the cursor
   * then moves on over offsets acknowledged right after it; acks and
   * attempt counts below the cursor are dropped.
   *
   * Rejects with `InvalidArgumentError`/`InvalidNameError` for bad ids or
   * names, `FailedPreconditionError` while the topic is being dropped and
   * `ShuttingDownError` after `close()`.
   */
  async load(topicId: number, partition: number, name: string): Promise<SubscriptionPartitionState | undefined> {
    const key = subscriptionKey(topicId, partition, name);
    this.context.checkReadable();
    this.context.checkTopic(topicId);
    const lane = this.lanes.get(laneId(topicId, partition, name));
    if (lane) await this.settledThrough(lane, lane.accepted);
    const value = await this.context.db.get(key);
    if (value === undefined) return undefined;
    return settleSubscriptionState(decodeSubscriptionState(value), this.context.logStartOffset(topicId, partition));
  }

  /**
   * Every subscription's state on (`topicId`, `partition`), in name order,
   * settled as `load` settles them. Saves of the partition accepted before
   * this call are written first. Rejects as `load` does.
   */
  async list(topicId: number, partition: number): Promise<SubscriptionStateEntry[]> {
    const range = subscriptionPartitionRange(topicId, partition);
    this.context.checkReadable();
    this.context.checkTopic(topicId);
    const busy = [...this.lanes.values()].filter((l) => l.topicId === topicId && l.partition === partition);
    await Promise.all(busy.map((lane) => this.settledThrough(lane, lane.accepted)));
    const logStart = this.context.logStartOffset(topicId, partition);
    const entries: SubscriptionStateEntry[] = [];
    for await (const [key, value] of this.context.db.entries(range)) {
      entries.push({ name: decodeSubscriptionKey(key).subscription, state: settleSubscriptionState(decodeSubscriptionState(value), logStart) });
    }
    return entries;
  }

  /**
   * Saves `state` as subscription `name`'s state on (`topicId`,
   * `partition`); resolves once a state at least as new is durable as
   * `durability` asks (`write`, the default: survives a process crash;
   * `fsync`: survives power loss).
   *
   * Saves of one subscription partition are written in call order, never
   * two at once; saves that queue up behind a write are coalesced into one
   * write of the newest state. The state is encoded when its write is
   * formed (see the file comment): attempt entries that need not be stored
   * are left out, and at most `maxStoredAttempts` are kept.
   *
   * Rejects with `InvalidArgumentError`/`InvalidNameError` for bad input
   * (also for bad attempt entries, found when the write is formed),
   * `FailedPreconditionError` while the topic is being dropped,
   * `ShuttingDownError` after `close()` and `UnavailableError` once a
   * RocksDB write failed.
   */
  async save(
    topicId: number,
    partition: number,
    name: string,
    state: SubscriptionPartitionState,
    durability: Durability = 'write',
  ): Promise<void> {
    const sync = checkDurability(durability);
    assertSubscriptionState(state);
    return this.request(topicId, partition, name, state, sync);
  }

  /**
   * Deletes subscription `name`'s state on (`topicId`, `partition`), in
   * order with its saves (a save after it writes the state again). Resolves
   * once durable; rejects as `save` does.
   */
  async delete(topicId: number, partition: number, name: string, durability: Durability = 'write'): Promise<void> {
    return this.request(topicId, partition, name, undefined, checkDurability(durability));
  }

  /** Requests, writes and coalescing. */
  stats(): SubscriptionStoreStats {
    return { ...this.counters, activeLanes: this.lanes.size };
  }

  /**
   * Resolves once every request accepted so far for `topicId` (or for
   * every topic) is written or failed. The log store refuses new requests
   * for them first (topic drop, close), so this ends.
   * @internal
   */
  async settle(topicId?: number): Promise<void> {
    const lanes = [...this.lanes.values()].filter((lane) => topicId === undefined || lane.topicId === topicId);
    await Promise.all(lanes.map((lane) => this.settledThrough(lane, lane.accepted)));
  }

  private request(topicId: number, partition: number, name: string, state: SubscriptionPartitionState | undefined, sync: boolean): Promise<void> {
    const id = laneId(topicId, partition, name);
    let lane = this.lanes.get(id);
    // A lane exists only for ids and names that were valid when it was made: validate only new ones.
    const key = lane ? lane.key : subscriptionKey(topicId, partition, name);
    this.context.checkWritable();
    this.context.checkTopic(topicId);
    if (!lane) {
      lane = new Lane(id, topicId, partition, name, key);
      this.lanes.set(id, lane);
    }
    const target = lane;
    return new Promise<void>((resolve, reject) => {
      const seq = ++target.accepted;
      this.counters.requests++;
      const next = target.next;
      if (next) {
        // The request already waiting is superseded: this one's state is newer and carries it.
        next.state = state;
        next.sync ||= sync;
        next.waiters.push({ resolve, reject });
        next.seq = seq;
        this.counters.coalesced++;
        return;
      }
      target.next = { state, sync, waiters: [{ resolve, reject }], seq };
      if (!target.writing) this.scheduleFlush(target);
    });
  }

  /** Flushes in a microtask, so the requests of this tick go out as one write. */
  private scheduleFlush(lane: Lane): void {
    if (lane.flushScheduled) return;
    lane.flushScheduled = true;
    queueMicrotask(() => {
      lane.flushScheduled = false;
      this.flush(lane);
    });
  }

  /** Hands the lane's next request to the group commit, unless a write of the lane is still in it. */
  private flush(lane: Lane): void {
    const pending = lane.next;
    if (lane.writing || !pending) return;
    lane.next = undefined;
    lane.writing = pending;
    try {
      const ops: WriteOp[] = pending.state
        ? [{ type: 'put', key: lane.key, value: encodeSubscriptionState(pending.state, this.maxStoredAttempts) }]
        : [{ type: 'del', key: lane.key }];
      const bytes = ops.reduce((sum, op) => sum + op.key.length + (op.type === 'put' ? op.value.length : 0), 0);
      this.context.commit.submit({
        lane,
        ops,
        bytes,
        sync: pending.sync,
        onDurable: () => { this.finish(lane, pending); },
        onFailed: (error) => { this.finish(lane, pending, { error }); },
      });
    } catch (error) {
      // Encoding found a bad attempt entry, or the group commit is closed or failed: this write never happens.
      this.finish(lane, pending, { error });
    }
  }

  /** Settles the lane's write: durable when `failure` is undefined. */
  private finish(lane: Lane, pending: Pending, failure?: { error: unknown }): void {
    lane.writing = undefined;
    if (failure) {
      this.context.logger.error(
        { err: failure.error, topicId: lane.topicId, partition: lane.partition, subscription: lane.name },
        'subscription state write failed',
      );
      for (const waiter of pending.waiters) waiter.reject(failure.error);
    } else {
      this.counters.writes++;
      for (const waiter of pending.waiters) waiter.resolve();
    }
    lane.settled = pending.seq;
    if (lane.settleWaiters.length > 0) {
      const ready = lane.settleWaiters.filter((w) => w.seq <= lane.settled);
      lane.settleWaiters = lane.settleWaiters.filter((w) => w.seq > lane.settled);
      for (const waiter of ready) waiter.resolve();
    }
    // What queued up during this write goes out now, as one write; the group commit batches it with the rest of this tick.
    if (lane.next) this.flush(lane);
    // Idle lanes go, so memory follows the subscriptions being written, not all there ever were.
    else this.lanes.delete(lane.id);
  }

  private settledThrough(lane: Lane, seq: number): Promise<void> {
    if (lane.settled >= seq) return Promise.resolve();
    return new Promise((resolve) => lane.settleWaiters.push({ seq, resolve }));
  }
}
