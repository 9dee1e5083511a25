/**
 * Dispatch for one subscription on this broker: the partitions it leads,
 * each with a ledger (cursor, acks, leases) and a read-ahead feed, and the
 * members connected here. `pump()` hands records to members in order,
 * within each member's credit and unsettled limit, by the subscription's
 * mode:
 *
 * - PARTITIONED: a partition's records go to its owner in offset order;
 *   while another member still holds records of that partition (it owned it
 *   before a membership change), the new owner waits until those are settled
 *   or their leases expired, so order survives the move.
 * - KEY_SHARED: a key's records go to its owner in offset order; a key whose
 *   records are still held by another member waits the same way, while other
 *   keys flow past it.
 * - SHARED: any member with credit takes the next record.
 *
 * Redeliveries go first, lowest offset first. Acknowledgement state is
 * saved through the storage's group-committed subscription store after
 * every change.
 *
 * Failures (issue 5, DESIGN.md "Settling" and "Dead letters"): a nack, an
 * expired lease or a member whose stream broke is a failed attempt,
 * recorded in the record's attempt ledger (durable, `RetryStore`). Until the
 * policy's last attempt the record waits for its retry (the member's delay,
 * or backoff with jitter) on a durable timer (`RetryTimers`); after it, or
 * on `reject`, it is dead-lettered: the intent is saved, the dead letter
 * written (deduplicated by origin when an intent is finished after a
 * restart), then the record is settled. With BLOCK_KEY, a key with a failed
 * (or delayed) record waiting for its time delivers nothing after that
 * record; other keys flow. The key's later records are held
 * (`HeldRecords`) until the record goes out again, and follow it to the
 * same member (until it is settled, in SHARED). A release (a record handed
 * back unprocessed) is no attempt.
 */
import type { Clock, Logger, Random } from '@braid/core';
import { FailedPreconditionError, toStreamError } from '@braid/core';
import { CircuitState, NoticeType, StartPosition, SubscriptionMode } from '@braid/proto';
import { TokenBucket } from '@braid/flow';
import { attr, brokerMetrics, tracingEnabled } from '@braid/telemetry';
import type { BrokerMetrics } from '@braid/telemetry';
import type { PartitionProgress } from '../stored-progress.js';
import type { Subscription } from '@braid/proto';
import { OffsetRangeSet, waitsForTimer } from '@braid/storage';
import type { AttemptDisposition, LogStore, PartitionLog, RetryKey, RetryState, RetryStore, StoredDueTimes } from '@braid/storage';
import type { DeadLetterWriter } from './dead-letter-writer.js';
import { encodeDeliveryBatch, topicField } from './delivery-encoding.js';
import type { DeliveryFrame } from './delivery-encoding.js';
import { DeliveryLedger } from './delivery-ledger.js';
import type { Lease } from './delivery-ledger.js';
import type { MemberSession } from './member-session.js';
import { ownership } from './ownership.js';
import type { Ownership } from './ownership.js';
import { HeldRecords } from './held-records.js';
import { PartitionFeed, feedCapacity } from './partition-feed.js';
import type { FeedRecord } from './partition-feed.js';
import { RetryPolicy } from './retry-policy.js';
import { RetryWrites } from './retry-writes.js';
import { traceRecord } from './record-tracing.js';
import type { TracedRecord } from './record-tracing.js';
import { CircuitBreaker, circuitSettings } from './circuit-breaker.js';
import { DispatchMetrics } from './dispatch-metrics.js';
import { faultPoint } from '../fault-points.js';

/** Most deliveries sent in one batch. */
const maxBatch = 500;
/** Held records of a partition (behind blocked keys) that keep their bytes; the rest are read again. */
const heldInMemory = { records: feedCapacity, bytes: 4 * 1024 * 1024 };
/** Most delayed records of a partition being saved at once (see `saveDelays`). */
const maxDelaySaves = 2_000;

interface PartitionDispatch {
  readonly partition: number;
  readonly log: PartitionLog;
  readonly ledger: DeliveryLedger;
  readonly feed: PartitionFeed;
  /** Records out with members, by offset: redeliveries come from here. */
  readonly outstanding: Map<number, FeedRecord>;
  /** Key id -> member holding records of that key, and how many. */
  readonly keyHolders: Map<string, { memberId: string; count: number }>;
  /** Failed records not settled yet (waiting, retried, or being dead-lettered): their ledgers. */
  readonly failures: Map<number, RetryState>;
  /**
   * BLOCK_KEY: key id -> offsets of its failed (or delayed) records that
   * block it, ascending. A million delayed records cost a million numbers
   * here and a million entries in the ledger's waiting set, nothing more.
   */
  readonly blocked: Map<string, number[]>;
  /** Delayed records (`deliver_at`) being saved to the retry store. */
  delaySaves: number;
  /** Records behind a blocked key (from the read-ahead or handed back), until the key unblocks. */
  readonly held: HeldRecords;
  /** Keys whose held records are being read back from the log (still blocked meanwhile). */
  readonly releasing: Set<string>;
  /** Held records were queued for delivery again during this pass: they go before the read-ahead. */
  requeued: boolean;
}

/** What the dispatcher tells the broker's retry timers. */
export interface RetryTimerLink {
  /** A retry was scheduled (put in the store) for `state.dueMs`. */
  scheduled(state: RetryState): void;
  /** A retry is no longer pending (settled, woken early, or replaced). */
  cancelled(key: RetryKey): void;
}

/** One failed attempt as reported. */
interface Failure {
  disposition: AttemptDisposition;
  reason: string;
  errorClass: string;
  /** The member's own retry delay (nack `delay_ms`). */
  delayMs?: number | undefined;
}

/** Options of `SubscriptionDispatcher.create`. */
export interface DispatcherOptions {
  topic: string;
  topicId: number;
  /** Partitions this broker leads. */
  partitions: number[];
  /** Partitions of the topic (this broker's share of a rate limit is `partitions.length / topicPartitions`). */
  topicPartitions?: number;
  subscription: Subscription;
  store: LogStore;
  clock: Clock;
  random: Random;
  logger: Logger;
  deadLetters: DeadLetterWriter;
  timers: RetryTimerLink;
  /** Counts dead letters (for operators' alerts). */
  onDeadLettered?: (topic: string, subscription: string) => void;
  /** The broker's instruments (default: on the global meter provider). */
  metrics?: BrokerMetrics;
}

async function initialCursor(log: PartitionLog, subscription: Subscription): Promise<number> {
  const config = subscription.config;
  switch (config?.startPosition) {
    case StartPosition.START_POSITION_EARLIEST:
      return log.logStartOffset;
    case StartPosition.START_POSITION_TIMESTAMP:
      return log.offsetForTimestamp(config.startTimeMs);
    default:
      // LATEST: the first record published after the subscription was
      // created, wherever and whenever this broker learns of it.
      return log.offsetForTimestamp(subscription.createdAtMs);
  }
}

/** Calls `fn` once `clock` reaches `dueMs`, however far away (Node timers reach at most 2^31 - 1 ms). */
function runAt(clock: Clock, dueMs: number, fn: () => void): void {
  const left = dueMs - clock.now();
  if (left <= 0) {
    fn();
    return;
  }
  setTimeout(() => { runAt(clock, dueMs, fn); }, Math.min(left, 2 ** 31 - 1)).unref();
}

/** Whether held records were queued again since the pass over `d` began (a key unblocked while handing out). */
function requeuedDuringPass(d: PartitionDispatch): boolean {
  return d.requeued;
}

/** Where `offset` is, or would go, in ascending `offsets`. */
function sortedIndex(offsets: readonly number[], offset: number): number {
  let lo = 0;
  let hi = offsets.length;
  // Mostly appended at the end.
  if (hi > 0 && (offsets[hi - 1] ?? 0) < offset) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((offsets[mid] ?? 0) < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function emptyDispatch(partition: number, log: PartitionLog, ledger: DeliveryLedger, feed: PartitionFeed): PartitionDispatch {
  return {
    partition,
    log,
    ledger,
    feed,
    outstanding: new Map(),
    keyHolders: new Map(),
    failures: new Map(),
    blocked: new Map(),
    delaySaves: 0,
    held: new HeldRecords(heldInMemory),
    releasing: new Set(),
    requeued: false,
  };
}

/** See the file comment. */
export class SubscriptionDispatcher {
  private readonly members = new Map<string, MemberSession>();
  private rule: Ownership;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private readonly expiryTimer: NodeJS.Timeout;
  private memberCursor = 0;
  private partitionCursor = 0;
  /** The dispatch state of every partition, in a fixed order (`fill` rotates over it without copying). */
  private partitionOrder: PartitionDispatch[];
  /** `StoredRecord.topic` as encoded in every delivery. */
  private readonly topicBytes: Buffer;
  private policy: RetryPolicy;
  /** The subscription-wide rate limit (this broker's share), if any. */
  private bucket: TokenBucket | undefined;
  private breaker: CircuitBreaker | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** A pump is scheduled for the next turn of the event loop (a member took a full batch). */
  private morePending = false;
  /** Retry states saved and removed at the end of each turn, together. */
  private readonly retryWrites: RetryWrites;
  /** Partitions with nacks of this turn, saved (then a pump) at its end: `saveAndPumpSoon`. */
  private readonly unsaved = new Set<PartitionDispatch>();
  /** This subscription's metrics (counted here; its gauges read `progress()` and `creditRecords()`). */
  readonly metrics: DispatchMetrics;

  private constructor(
    private readonly options: DispatcherOptions,
    private subscription: Subscription,
    private readonly dispatch: Map<number, PartitionDispatch>,
  ) {
    this.rule = ownership(this.mode, options.topic, []);
    this.topicBytes = topicField(options.topic);
    this.partitionOrder = [...dispatch.values()];
    this.policy = new RetryPolicy(options.topic, subscription);
    this.metrics = new DispatchMetrics(options.metrics ?? brokerMetrics(), options.topic, subscription.name, options.clock);
    this.retryWrites = new RetryWrites({
      store: () => this.retries,
      putFailed: (states, error) => {
        // Not durable, but not forgotten: the retries fire from memory (the
        // timers' refills would not find them in the store).
        this.options.logger.error({ err: error, partition: states[0]?.partition, offsets: states.map((state) => state.offset) }, 'saving retries failed; retrying from memory');
        for (const state of states) if (state.dueMs > 0) runAt(this.options.clock, state.dueMs, () => { this.retriesDue([state]); });
      },
      removeFailed: (keys, error) => { this.removeFailed(keys, error); },
    });
    this.configureLimits();
    // Lease expiry: checked often enough that an expired record is back
    // within a fraction of the shortest allowed ack timeout (100 ms).
    this.expiryTimer = setInterval(() => { this.expireLeases(); }, 50);
    this.expiryTimer.unref();
  }

  /** Loads (or initialises) the state of every led partition. */
  static async create(options: DispatcherOptions): Promise<SubscriptionDispatcher> {
    const dispatch = new Map<number, PartitionDispatch>();
    const states = options.store.subscriptions();
    for (const partition of options.partitions) {
      const log = options.store.partition(options.topicId, partition);
      let state = await states.load(options.topicId, partition, options.subscription.name);
      if (!state) {
        state = { cursor: await initialCursor(log, options.subscription), acked: new OffsetRangeSet(), attempts: new Map() };
        await states.save(options.topicId, partition, options.subscription.name, state);
      }
      const ledger = new DeliveryLedger(state, options.clock);
      const feed = new PartitionFeed(options.topic, partition, log, ledger.cursor, (offset) => ledger.needsDelivery(offset));
      dispatch.set(partition, emptyDispatch(partition, log, ledger, feed));
    }
    const dispatcher = new SubscriptionDispatcher(options, options.subscription, dispatch);
    await dispatcher.loadFailures();
    return dispatcher;
  }

  /** Brings back failed records after a restart: ledgers, blocked keys, pending retries and dead-letter intents. */
  private async loadFailures(): Promise<void> {
    const retries = this.retries;
    for (const d of this.dispatch.values()) {
      const states: RetryState[] = [];
      const stale: RetryState[] = [];
      for (const state of await retries.list(this.options.topicId, d.partition, this.subscription.name)) {
        // A delayed record (no attempt yet): the read-ahead finds it again in
        // the log and waits for it anew. Or settled meanwhile (acknowledged
        // before the state was removed).
        if ((state.attempts.length === 0 && !state.deadLettering) || state.offset < d.ledger.cursor || !d.ledger.needsDelivery(state.offset)) stale.push(state);
        else states.push(state);
      }
      // In slices, so that a million delayed records are not one huge write.
      for (let i = 0; i < stale.length; i += 10_000) await this.removeKnownStates(stale.slice(i, i + 10_000));
      const records = await d.feed.readAt(states.map((state) => state.offset));
      for (const state of states) {
        const record = records.get(state.offset);
        if (!record) {
          // Deleted by retention: nothing left to retry.
          this.retryWrites.remove(state, storedDueOf(state));
          continue;
        }
        d.ledger.restoreAttempts(state.offset, Math.max(...state.attempts.map((a) => a.attempt), 0));
        this.noteFailure(d, record, state);
        d.ledger.wait(state.offset);
        d.outstanding.set(state.offset, record);
        if (state.deadLettering) void this.finishDeadLetter(d, state.offset, true);
        else if (state.dueMs <= this.options.clock.now()) this.wake(d, state.offset);
      }
    }
  }

  private get mode(): SubscriptionMode {
    return this.subscription.config?.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED;
  }

  private get retries(): RetryStore {
    return this.options.store.retries();
  }

  private get leaseMs(): number {
    return this.subscription.config?.ackTimeoutMs || 30_000;
  }

  /** Partitions dispatched here. */
  get partitions(): number[] {
    return [...this.dispatch.keys()];
  }

  /** Id of the subscription's topic. */
  get topicId(): number {
    return this.options.topicId;
  }

  /** Settings in force. */
  get settings(): Subscription {
    return this.subscription;
  }

  /** Applies changed settings (ack timeout, limits). */
  update(subscription: Subscription): void {
    this.subscription = subscription;
    this.policy = new RetryPolicy(this.options.topic, subscription);
    this.configureLimits();
    this.pump();
  }

  /** Adds a member; a member id already connected replaces the old stream. */
  attach(session: MemberSession): void {
    const previous = this.members.get(session.memberId);
    if (previous && previous !== session) this.detach(previous);
    this.members.set(session.memberId, session);
    this.reassign();
  }

  /**
   * Removes a member; what it held is delivered again. A member whose
   * stream broke (`broken`: it crashed or lost its connection) failed the
   * attempts it held; one that closed its stream handed them back.
   */
  detach(session: MemberSession, broken = false): void {
    if (this.members.get(session.memberId) !== session) return;
    this.members.delete(session.memberId);
    for (const d of this.dispatch.values()) {
      const leases = d.ledger.release(session.memberId);
      for (const lease of leases) {
        this.forgetKeyHold(d, lease);
        if (broken) this.failed(d, lease, { disposition: 'member_left', reason: 'member_left', errorClass: '', delayMs: 0 });
        else d.ledger.handBack(lease);
      }
      if (broken && leases.length > 0) this.metrics.expired(d.partition, 'member_left', leases.length);
      this.save(d);
    }
    this.reassign();
  }

  /** Member ids connected here. */
  memberIds(): string[] {
    return [...this.members.keys()];
  }

  /** Records `memberId` holds across partitions. */
  heldBy(memberId: string): number {
    let held = 0;
    for (const d of this.dispatch.values()) held += d.ledger.heldBy(memberId);
    return held;
  }

  /** Record credit granted by the members here and not used yet. */
  creditRecords(): number {
    let credit = 0;
    for (const m of this.members.values()) credit += m.credit.availableRecords;
    return credit;
  }

  /** Per-partition progress for describe. */
  progress(): PartitionProgress[] {
    return [...this.dispatch.values()].map((d) => ({
      partition: d.partition,
      committedOffset: d.ledger.cursor,
      highWatermark: d.log.highWatermark,
      unacked: d.ledger.outstanding,
      pendingRetries: d.ledger.pendingRedeliveries,
    }));
  }

  /** Members with what they hold and their remaining credit, for describe. */
  memberInfo(): { memberId: string; unacked: number; creditRecords: number; partitions: number[] }[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.memberId,
      unacked: this.heldBy(m.memberId),
      creditRecords: m.credit.availableRecords,
      partitions: this.rule.perPartition ? this.partitions.filter((p) => this.rule.ownerOf(p, undefined, 0) === m.memberId) : [],
    }));
  }

  /**
   * Moves the cursor of `partition` to `offset` (clamped to the retained
   * log): records from there on are delivered again, earlier ones are
   * skipped. Deliveries still out with members become stale: acking them
   * reports "not held".
   */
  async seek(partition: number, target: (log: PartitionLog) => Promise<number>): Promise<number> {
    const d = this.dispatch.get(partition);
    if (!d) throw new FailedPreconditionError(`partition ${partition} is not led by this broker`);
    const offset = Math.min(Math.max(await target(d.log), d.log.logStartOffset), d.log.highWatermark);
    const ledger = new DeliveryLedger({ cursor: offset, acked: new OffsetRangeSet(), attempts: new Map() }, this.options.clock);
    const feed = new PartitionFeed(this.options.topic, partition, d.log, offset, (o) => ledger.needsDelivery(o));
    const fresh = emptyDispatch(partition, d.log, ledger, feed);
    this.dispatch.set(partition, fresh);
    this.partitionOrder = [...this.dispatch.values()];
    // Failed records and delayed ones (waiting without a failure) alike.
    void this.removeStates(d.ledger.waitingOffsets().map((offset) => ({ topicId: this.options.topicId, partition, subscription: this.subscription.name, offset })));
    await this.options.store.subscriptions().save(this.options.topicId, partition, this.subscription.name, ledger.snapshot());
    this.pump();
    return offset;
  }

  /** Acknowledges ranges for a member; ranges it does not hold are reported on its stream. */
  ack(session: MemberSession, ranges: { partition: number; first: number; last: number }[]): void {
    const touched = new Set<PartitionDispatch>();
    const now = this.metrics.beginEndToEnd();
    for (const range of ranges) {
      const d = this.dispatch.get(range.partition);
      if (!d) {
        session.error(toStreamError(new FailedPreconditionError(`partition ${range.partition} is not dispatched by this broker`)));
        continue;
      }
      const outcome = d.ledger.ack(session.memberId, range.first, range.last);
      for (const lease of outcome.settled) {
        if (now !== undefined) {
          const record = d.outstanding.get(lease.offset);
          if (record) this.metrics.endToEnd(record.timestampMs, now);
        }
        d.outstanding.delete(lease.offset);
        this.forgetKeyHold(d, lease);
        this.clearFailure(d, lease.offset, lease.keyId);
        this.breaker?.succeeded();
      }
      this.metrics.acknowledged(d.partition, outcome.settled.length);
      if (outcome.notHeld > 0) {
        session.error(
          toStreamError(
            new FailedPreconditionError(
              `ack of ${range.partition}:${range.first}-${range.last}: ${outcome.notHeld} record(s) not held by member ${session.memberId} (never delivered to it, or its lease expired)`,
              { metadata: { partition: String(range.partition), first: String(range.first), last: String(range.last) } },
            ),
          ),
        );
      }
      touched.add(d);
    }
    for (const d of touched) this.save(d);
    this.pump();
  }

  /** Extends leases a member holds. */
  extend(session: MemberSession, ranges: { partition: number; first: number; last: number }[], extendMs: number): void {
    for (const range of ranges) {
      const d = this.dispatch.get(range.partition);
      const outcome = d?.ledger.extend(session.memberId, range.first, range.last, extendMs || this.leaseMs);
      if (!outcome || outcome.notHeld > 0) {
        session.error(
          toStreamError(new FailedPreconditionError(`extend of ${range.partition}:${range.first}-${range.last}: record(s) not held by member ${session.memberId}`)),
        );
      }
    }
  }

  /**
   * A nack from the member: a failed attempt (retried after `delayMs` or the
   * policy's backoff, or dead-lettered after the last attempt), or with
   * `release` a record handed back unprocessed (no attempt counted).
   */
  nack(session: MemberSession, request: { partition: number; offset: number; delayMs?: number | undefined; reason: string; errorClass: string; release: boolean }): void {
    const taken = this.endLease(session, 'nack', request);
    if (!taken) return;
    const { d, lease } = taken;
    if (request.release) {
      d.ledger.handBack(lease);
      if (request.delayMs) {
        // Handed back with a delay: it waits like a retry, without an attempt.
        d.ledger.wait(lease.offset);
        runAt(this.options.clock, this.options.clock.now() + request.delayMs, () => {
          this.wake(d, lease.offset);
          this.pump();
        });
      }
    } else {
      this.metrics.nacked(d.partition);
      this.failed(d, lease, { disposition: 'nack', reason: request.reason, errorClass: request.errorClass, delayMs: request.delayMs });
    }
    this.saveAndPumpSoon(d);
  }

  /**
   * Saves `d` and pumps once, at the end of this turn of the event loop,
   * for every nack of the turn together. A nack rarely makes a record
   * deliverable at once (its retry waits for the backoff), and a member
   * that fails several records sends as many nacks back to back: they
   * share one ledger write and one pump (with 10% of records failing, a
   * third as many ledger writes as one per nack).
   */
  private saveAndPumpSoon(d: PartitionDispatch): void {
    if (this.unsaved.size === 0) {
      setImmediate(() => {
        const unsaved = [...this.unsaved];
        this.unsaved.clear();
        // Saved even when closed meanwhile, as it was before the nack returned; a partition that moved away is saved by its new dispatch.
        for (const u of unsaved) if (this.dispatch.get(u.partition) === u) this.save(u);
        this.pump();
      });
    }
    this.unsaved.add(d);
  }

  /** A reject from the member: the record is poison and dead-lettered now. */
  reject(session: MemberSession, request: { partition: number; offset: number; reason: string; errorClass: string }): void {
    const taken = this.endLease(session, 'reject', request);
    if (!taken) return;
    this.metrics.rejected(taken.d.partition);
    this.failed(taken.d, taken.lease, { disposition: 'reject', reason: request.reason, errorClass: request.errorClass });
    this.pump();
  }

  /**
   * Ends the member's lease on a record it settles with `verb` (nack or
   * reject); a record it does not hold is reported on its stream.
   */
  private endLease(session: MemberSession, verb: string, at: { partition: number; offset: number }): { d: PartitionDispatch; lease: Lease } | undefined {
    const d = this.dispatch.get(at.partition);
    const lease = d?.ledger.fail(session.memberId, at.offset);
    if (!d || !lease) {
      session.error(toStreamError(new FailedPreconditionError(`${verb} of ${at.partition}:${at.offset}: not held by member ${session.memberId}`)));
      return undefined;
    }
    this.forgetKeyHold(d, lease);
    return { d, lease };
  }

  /** Retries that came due (from the broker's retry timers). */
  retriesDue(states: readonly RetryState[]): void {
    const delaysOver = new Map<PartitionDispatch, RetryState[]>();
    for (const state of states) {
      const d = this.dispatch.get(state.partition);
      if (!d) continue;
      // A delayed record's time (the store checked the state still names this due time).
      if (state.attempts.length === 0 && d.ledger.isWaiting(state.offset) && !d.failures.has(state.offset)) {
        const over = delaysOver.get(d) ?? [];
        over.push(state);
        delaysOver.set(d, over);
        continue;
      }
      const current = d.failures.get(state.offset);
      // A stale timer (the record was settled, or failed again since).
      if (current?.dueMs !== state.dueMs || current.deadLettering) continue;
      this.wake(d, state.offset);
    }
    for (const [d, over] of delaysOver) void this.delaysOver(d, over);
    this.pump();
  }

  /**
   * A record published with a later delivery time (`deliver_at`/`delay`):
   * it waits, durably, on the retry timers, without its bytes in memory;
   * with BLOCK_KEY its key waits with it, so the key's order holds. Returns
   * its retry state, for the caller to save (with the others of its pass).
   */
  private delay(d: PartitionDispatch, record: FeedRecord): RetryState {
    d.ledger.wait(record.offset);
    this.blockKey(d, record.offset, record.keyId);
    return {
      topicId: this.options.topicId,
      partition: d.partition,
      subscription: this.subscription.name,
      offset: record.offset,
      attempts: [],
      dueMs: record.deliverAtMs,
      deadLettering: false,
    };
  }

  /**
   * Saves the retry states of records delayed in one pass, then hands them
   * to the timers. The read-ahead takes no more delayed records while
   * `maxDelaySaves` are being saved, so parking a million of them holds a
   * bounded number of writes (and their garbage) at a time.
   */
  private saveDelays(d: PartitionDispatch, states: RetryState[]): void {
    d.delaySaves += states.length;
    // Freshly delayed: no state of theirs is stored (those of a previous run were removed when the partition loaded).
    this.retries.put(states, 'write', states.map(() => undefined)).then(
      () => { for (const state of states) this.options.timers.scheduled(state); },
      (error: unknown) => {
        // Not durable, but not forgotten: fire from memory (after a restart
        // the read-ahead finds the records in the log and waits for them anew).
        this.options.logger.error({ err: error, partition: d.partition, records: states.length }, 'saving delayed records failed; waiting in memory');
        for (const state of states) runAt(this.options.clock, state.dueMs, () => { this.retriesDue([state]); });
      },
    ).finally(() => {
      d.delaySaves -= states.length;
      this.pump();
    });
  }

  /** Delayed records whose time has come: read them back and deliver them. */
  private async delaysOver(d: PartitionDispatch, states: readonly RetryState[]): Promise<void> {
    const records = await d.feed.readAt(states.map((state) => state.offset)).catch((error: unknown) => {
      this.options.logger.error({ err: error, partition: d.partition }, 'reading delayed records failed; retrying in 1 s');
      runAt(this.options.clock, this.options.clock.now() + 1000, () => { this.retriesDue(states); });
      return undefined;
    });
    if (!records || this.dispatch.get(d.partition) !== d) return;
    const done: RetryState[] = [];
    for (const state of states) {
      // Fired twice, or delivered meanwhile.
      if (!d.ledger.isWaiting(state.offset) || d.failures.has(state.offset)) continue;
      done.push(state);
      const record = records.get(state.offset);
      if (!record) {
        // Deleted by retention meanwhile: nothing to deliver.
        d.ledger.settle(state.offset);
        this.unblockKey(d, state.offset, this.blockedKeyAt(d, state.offset));
      } else {
        d.outstanding.set(state.offset, record);
        d.ledger.wake(state.offset);
      }
    }
    for (const state of done) this.retryWrites.remove(state, storedDueOf(state));
    this.save(d);
    this.pump();
  }

  /**
   * Records a failed attempt of `lease` and decides what comes next: the
   * record waits for its retry, or is dead-lettered.
   */
  private failed(d: PartitionDispatch, lease: Lease, failure: Failure): void {
    const offset = lease.offset;
    const record = d.outstanding.get(offset);
    if (!record) {
      // Not in memory (cannot happen for a record out with a member): deliver it again.
      d.ledger.requeue(offset);
      return;
    }
    this.breaker?.failed();
    const now = this.options.clock.now();
    const previous = d.failures.get(offset);
    const state: RetryState = {
      topicId: this.options.topicId,
      partition: d.partition,
      subscription: this.subscription.name,
      offset,
      attempts: [
        ...(previous?.attempts ?? []),
        { attempt: lease.attempt, timeMs: now, memberId: lease.memberId, disposition: failure.disposition, reason: failure.reason, errorClass: failure.errorClass },
      ],
      dueMs: 0,
      deadLettering: false,
    };
    if (previous && previous.dueMs > 0) this.options.timers.cancelled(previous);
    this.noteFailure(d, record, state);
    d.ledger.wait(offset);
    if (failure.disposition === 'reject' || this.policy.exhausted(lease.attempt)) {
      state.deadLettering = true;
      void this.deadLetter(d, state, storedDueOf(previous));
      return;
    }
    const previousDelay = previous && previous.dueMs > 0 ? previous.dueMs - (previous.attempts.at(-1)?.timeMs ?? previous.dueMs) : undefined;
    const delay = this.policy.delayMs(lease.attempt, failure.delayMs, previousDelay, this.options.random);
    state.dueMs = delay > 0 ? now + delay : 0;
    if (tracingEnabled()) {
      // A nack, or an attempt that ended without one (lease_expired, member_left: its error.type).
      const why = failure.disposition === 'nack' ? { [attr.disposition]: 'nack' } : { [attr.errorType]: failure.disposition };
      traceRecord('retry', this.traced(d, offset, record), { [attr.attempt]: lease.attempt, ...why, 'braid.retry.delay_ms': delay });
    }
    this.retryWrites.put(state, storedDueOf(previous));
    if (state.dueMs === 0) this.wake(d, offset);
    else this.options.timers.scheduled(state);
  }

  /** Remembers a failed record's ledger and blocks its key (BLOCK_KEY). */
  private noteFailure(d: PartitionDispatch, record: FeedRecord, state: RetryState): void {
    d.failures.set(state.offset, state);
    this.blockKey(d, state.offset, record.keyId);
  }

  /** BLOCK_KEY: later records of the key wait until `offset` is settled (or out again). */
  private blockKey(d: PartitionDispatch, offset: number, keyId: string | undefined): void {
    if (!this.policy.blockKey || keyId === undefined) return;
    const offsets = d.blocked.get(keyId);
    if (!offsets) {
      d.blocked.set(keyId, [offset]);
      return;
    }
    const at = sortedIndex(offsets, offset);
    if (offsets[at] !== offset) offsets.splice(at, 0, offset);
  }

  /** Whether `offset` blocks its key `keyId`. */
  private blocksKey(d: PartitionDispatch, offset: number, keyId: string): boolean {
    const offsets = d.blocked.get(keyId);
    return offsets !== undefined && offsets[sortedIndex(offsets, offset)] === offset;
  }

  /** The key `offset` blocks, found by a scan (for a record that is gone from the log). */
  private blockedKeyAt(d: PartitionDispatch, offset: number): string | undefined {
    for (const [keyId, offsets] of d.blocked) if (offsets[sortedIndex(offsets, offset)] === offset) return keyId;
    return undefined;
  }

  /** `offset` was settled: its key no longer waits for it (and held records come back when nothing else blocks). */
  private unblockKey(d: PartitionDispatch, offset: number, keyId: string | undefined): void {
    if (keyId === undefined) return;
    const offsets = d.blocked.get(keyId);
    if (!offsets) return;
    const at = sortedIndex(offsets, offset);
    if (offsets[at] !== offset) return;
    offsets.splice(at, 1);
    if (offsets.length === 0) d.blocked.delete(keyId);
    // What is held before the next failed record of the key, and that
    // record itself when its retry came due while it was held, go on.
    this.releaseHeld(d, keyId);
  }

  /**
   * Queues the held records of an unblocked key for delivery, lowest offset
   * first: at once when their bytes are in memory, else after reading them
   * back from the log (the key stays blocked meanwhile).
   */
  private releaseHeld(d: PartitionDispatch, keyId: string): void {
    if (d.releasing.has(keyId)) return;
    const held = d.held.take(keyId, d.blocked.get(keyId)?.[0]);
    if (held.length === 0) return;
    if (held.every((entry) => entry.record !== undefined)) {
      for (const entry of held) if (entry.record) this.queueAgain(d, entry.record);
      return;
    }
    d.releasing.add(keyId);
    void (async () => {
      try {
        const read = await d.feed.readAt(held.filter((entry) => entry.record === undefined).map((entry) => entry.offset));
        if (this.dispatch.get(d.partition) !== d) return;
        for (const entry of held) {
          const record = entry.record ?? read.get(entry.offset);
          if (record) this.queueAgain(d, record);
        }
      } catch (error) {
        // Held again (the key's later records keep waiting behind them), and tried again in a second.
        d.held.restore(keyId, held);
        d.releasing.delete(keyId);
        this.options.logger.error({ err: error, partition: d.partition }, 'reading held records back failed; trying again in 1 s');
        runAt(this.options.clock, this.options.clock.now() + 1000, () => {
          this.releaseHeld(d, keyId);
          this.pump();
        });
        return;
      }
      d.releasing.delete(keyId);
      // Records of the key held while these were read: next, up to the key's next failed record.
      this.releaseHeld(d, keyId);
      this.pump();
    })();
  }

  /** Queues a record that was held back for delivery (redeliveries go first, lowest offset first). */
  private queueAgain(d: PartitionDispatch, record: FeedRecord): void {
    if (!d.ledger.needsDelivery(record.offset)) return;
    d.outstanding.set(record.offset, record);
    d.ledger.requeue(record.offset);
    d.requeued = true;
    this.pumpAgain = true;
  }

  /** A failed record was settled (acknowledged or dead-lettered): forget its ledger, unblock its key. */
  private clearFailure(d: PartitionDispatch, offset: number, keyId: string | undefined): void {
    const state = d.failures.get(offset);
    if (state) {
      d.failures.delete(offset);
      if (state.dueMs > 0) this.options.timers.cancelled(state);
      this.retryWrites.remove(state, storedDueOf(state));
    }
    this.unblockKey(d, offset, keyId);
  }

  /** Removes retry states whose stored due times are unknown (the store reads them first). */
  private removeStates(keys: readonly RetryKey[]): Promise<void> {
    return this.removeRetries(keys, undefined);
  }

  /** Removes retry states as last written (kept in memory, or read back from the store): no read first. */
  private removeKnownStates(states: readonly RetryState[]): Promise<void> {
    return this.removeRetries(states, states.map(storedDueOf));
  }

  private removeRetries(keys: readonly RetryKey[], stored: StoredDueTimes | undefined): Promise<void> {
    return this.retries.remove(keys, 'write', stored).catch((error: unknown) => { this.removeFailed(keys, error); });
  }

  /** A remove that failed leaves orphaned states behind, which `due()` drops when they come due: logged only. */
  private removeFailed(keys: readonly RetryKey[], error: unknown): void {
    this.options.logger.error({ err: error, partition: keys[0]?.partition, offsets: keys.map((key) => key.offset) }, 'removing retries failed');
  }

  /** A waiting record is due: it is delivered again. */
  private wake(d: PartitionDispatch, offset: number): void {
    d.ledger.wake(offset);
  }

  /** Saves the intent, then writes the dead letter and settles the record. */
  private async deadLetter(d: PartitionDispatch, state: RetryState, storedDue: number | undefined): Promise<void> {
    try {
      await this.retries.put([state], 'write', [storedDue]);
    } catch (error) {
      this.options.logger.error({ err: error, partition: d.partition, offset: state.offset }, 'saving a dead-letter intent failed; retrying later');
    }
    await this.finishDeadLetter(d, state.offset, false);
  }

  /** Writes the dead letter of a record whose intent is saved, then settles it; retries on failure. */
  private async finishDeadLetter(d: PartitionDispatch, offset: number, dedupe: boolean): Promise<void> {
    const state = d.failures.get(offset);
    const record = d.outstanding.get(offset);
    if (!state || !record || this.closed || this.dispatch.get(d.partition) !== d) return;
    try {
      const written = await this.options.deadLetters.write({
        topic: this.options.topic,
        partition: d.partition,
        offset,
        subscription: this.subscription.name,
        deadLetterTopic: this.policy.deadLetterTopic,
        payload: record.payload,
        attempts: state.attempts,
        dedupe,
      });
      faultPoint('after-dead-letter-write');
      const last = state.attempts.at(-1);
      this.options.logger.warn(
        {
          event: 'dead_lettered',
          topic: this.options.topic,
          subscription: this.subscription.name,
          partition: d.partition,
          offset,
          attempts: state.attempts.length,
          reason: last?.reason,
          errorClass: last?.errorClass,
          deadLetterTopic: this.policy.deadLetterTopic,
          deadLetterPartition: written.partition,
          deadLetterOffset: written.offset,
          duplicate: written.duplicate,
        },
        'record dead-lettered',
      );
      this.options.onDeadLettered?.(this.options.topic, this.subscription.name);
      this.metrics.deadLettered(d.partition);
      if (tracingEnabled()) traceRecord('dead_letter', this.traced(d, offset, record), { [attr.attempt]: state.attempts.length, [attr.disposition]: 'dead_letter' });
      d.ledger.settle(offset);
      d.outstanding.delete(offset);
      this.clearFailure(d, offset, record.keyId);
      this.save(d);
      this.pump();
    } catch (error) {
      this.options.logger.error({ err: error, partition: d.partition, offset }, 'dead-lettering failed; retrying in 1 s');
      const timer = setTimeout(() => { void this.finishDeadLetter(d, offset, true); }, 1000);
      timer.unref();
    }
  }

  /** New records may be readable on `partition`. */
  appended(partition: number): void {
    if (this.dispatch.has(partition)) this.pump();
  }

  /** Stops timers; sessions are ended by their streams. */
  close(): void {
    this.closed = true;
    clearInterval(this.expiryTimer);
    clearTimeout(this.wakeTimer);
  }

  /** Hands out what can be handed out now, then reads ahead and repeats. */
  pump(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.dispatchOnce();
      } while (this.takePumpRequest());
    } finally {
      this.pumping = false;
    }
    this.readAhead();
  }

  /** Whether a pump was requested while pumping (and clears the request). */
  private takePumpRequest(): boolean {
    const again = this.pumpAgain;
    this.pumpAgain = false;
    return again;
  }

  private readAhead(): void {
    for (const d of this.dispatch.values()) {
      // One continuation per read: a pump during a read must not pile up more.
      if (!d.feed.canRead || d.feed.busy) continue;
      d.feed
        .fill()
        .then(() => { this.pump(); })
        .catch((error: unknown) => {
          this.options.logger.error({ err: error, partition: d.partition }, 'dispatch failed');
        });
    }
  }

  private reassign(): void {
    this.rule = ownership(this.mode, this.options.topic, [...this.members.keys()]);
    this.pump();
  }

  private expireLeases(): void {
    const now = this.options.clock.now();
    let any = false;
    for (const d of this.dispatch.values()) {
      const deadline = d.ledger.nextDeadline();
      if (deadline === undefined || deadline > now) continue;
      const byMember = new Map<string, { partition: number; first: number; last: number }[]>();
      const expired = d.ledger.expire(now);
      if (expired.length > 0) this.metrics.expired(d.partition, 'lease_expired', expired.length);
      for (const lease of expired) {
        this.forgetKeyHold(d, lease);
        this.failed(d, lease, { disposition: 'lease_expired', reason: 'lease_expired', errorClass: '' });
        const ranges = byMember.get(lease.memberId) ?? [];
        ranges.push({ partition: d.partition, first: lease.offset, last: lease.offset });
        byMember.set(lease.memberId, ranges);
        any = true;
      }
      // Tell each member which of its deliveries went stale, so it can drop
      // queued copies instead of processing them twice.
      for (const [memberId, ranges] of byMember) {
        this.members.get(memberId)?.notice({
          type: NoticeType.NOTICE_TYPE_LEASE_EXPIRED,
          message: `${ranges.length} lease(s) expired; the records will be delivered again`,
          partitions: [d.partition],
          ranges,
        });
      }
      this.save(d);
    }
    if (any) this.pump();
  }

  private dispatchOnce(): void {
    const members = [...this.members.values()];
    if (members.length === 0) return;
    // What the rate limit and the circuit breaker let through now.
    let budget = Math.min(this.breaker?.allowance() ?? Number.POSITIVE_INFINITY, this.bucket ? Math.floor(this.bucket.available + 1e-9) : Number.POSITIVE_INFINITY);
    if (budget <= 0) {
      this.wakeLater();
      return;
    }
    // Rotate which member goes first, so SHARED spreads fairly.
    this.memberCursor = (this.memberCursor + 1) % members.length;
    // A limited budget is shared evenly among the members that can take records now.
    const quota = Number.isFinite(budget) ? Math.max(1, Math.floor(budget / Math.max(1, this.readyMembers(members)))) : budget;
    let quotaReached = false;
    for (let i = 0; i < members.length && budget > 0; i++) {
      const member = members[(this.memberCursor + i) % members.length];
      if (!member) continue;
      const limit = Math.min(quota, budget);
      const sent = this.fill(member, limit);
      if (sent === 0) continue;
      if (sent >= limit) quotaReached = true;
      budget -= sent;
      this.bucket?.tryTake(sent);
      this.breaker?.delivered(sent);
    }
    if (Number.isFinite(budget) && quotaReached) {
      // Members that used their share may take what the others left.
      if (budget > 0) this.pumpAgain = true;
      else this.wakeLater();
    }
  }

  private readyMembers(members: readonly MemberSession[]): number {
    let ready = 0;
    for (const m of members) if (m.ready(this.heldBy(m.memberId))) ready++;
    return ready;
  }

  private pumpNextTurn(): void {
    if (this.morePending) return;
    this.morePending = true;
    setImmediate(() => {
      this.morePending = false;
      this.pump();
    });
  }

  /** Pumps again when the rate limit has a token or the circuit breaker starts probing. */
  private wakeLater(): void {
    if (this.wakeTimer || this.closed) return;
    const now = this.options.clock.now();
    const probingAt = this.breaker?.probingAt;
    const rateLimitMs = this.bucket ? this.bucket.msUntil(1) : 0;
    let ms = rateLimitMs;
    if (probingAt !== undefined) ms = Math.max(ms, probingAt - now);
    // A wait for the rate limit's next token (not one for the circuit breaker).
    if (rateLimitMs > 0 && rateLimitMs >= ms) this.metrics.rateLimitWait(rateLimitMs);
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.pump();
    }, Math.max(1, ms));
    this.wakeTimer.unref();
  }

  /** Applies the subscription's rate limit (this broker's share of it) and circuit breaker settings. */
  private configureLimits(): void {
    const limit = this.subscription.config?.rateLimit;
    if (limit && limit.recordsPerSecond > 0) {
      // Each leader enforces its share, in proportion to the partitions it leads.
      const share = this.dispatch.size / Math.max(this.dispatch.size, this.options.topicPartitions ?? this.dispatch.size);
      const rate = limit.recordsPerSecond * share;
      const burst = Math.max(1, (limit.burst || limit.recordsPerSecond) * share);
      if (this.bucket) this.bucket.setRate(rate, burst);
      else this.bucket = new TokenBucket({ rate, burst, clock: this.options.clock });
    } else {
      this.bucket = undefined;
    }
    const settings = circuitSettings(this.subscription.config?.circuitBreaker);
    if (!settings) this.breaker = undefined;
    else if (this.breaker) this.breaker.update(settings);
    else this.breaker = new CircuitBreaker(settings, this.options.clock, (state) => { this.circuitChanged(state); });
  }

  private circuitChanged(state: CircuitState): void {
    const notices: Partial<Record<CircuitState, [NoticeType, string]>> = {
      [CircuitState.CIRCUIT_STATE_OPEN]: [NoticeType.NOTICE_TYPE_CIRCUIT_OPEN, 'too many failures: delivery paused'],
      [CircuitState.CIRCUIT_STATE_HALF_OPEN]: [NoticeType.NOTICE_TYPE_CIRCUIT_HALF_OPEN, 'probing with a few records'],
      [CircuitState.CIRCUIT_STATE_CLOSED]: [NoticeType.NOTICE_TYPE_CIRCUIT_CLOSED, 'probes succeeded: delivery resumed'],
    };
    const notice = notices[state];
    if (!notice) return;
    this.options.logger.warn({ event: 'circuit', state: CircuitState[state], subscription: this.subscription.name }, notice[1]);
    for (const member of this.members.values()) member.notice({ type: notice[0], message: notice[1], partitions: this.partitions, ranges: [] });
    if (state === CircuitState.CIRCUIT_STATE_OPEN) this.wakeLater();
  }

  /** The circuit breaker's state (CLOSED when it is off), for describe. */
  get circuitState(): CircuitState {
    return this.breaker?.state ?? CircuitState.CIRCUIT_STATE_CLOSED;
  }

  /** Collects at most `limit` deliveries for one member from every partition and sends them; returns how many. */
  private fill(member: MemberSession, limit: number): number {
    const batch: DeliveryFrame[] = [];
    const most = Math.min(maxBatch, limit);
    let held = this.heldBy(member.memberId);
    // Start at a different partition each time, so that a limited budget
    // (rate limit, breaker probes, credit) is spread over all partitions.
    const partitions = this.partitionOrder;
    this.partitionCursor = (this.partitionCursor + 1) % Math.max(1, partitions.length);
    for (let p = 0; p < partitions.length; p++) {
      const d = partitions[(this.partitionCursor + p) % partitions.length];
      if (!d) continue;
      if (!member.ready(held) || batch.length >= most) break;
      if (this.rule.perPartition) {
        if (this.rule.ownerOf(d.partition, undefined, 0) !== member.memberId) continue;
        // Hand-over: wait until the previous owner's records are settled.
        if (d.ledger.outstanding > d.ledger.heldBy(member.memberId)) continue;
      }
      // Nothing to hand out here (the common case when a pump follows an ack).
      if (d.ledger.redeliveries().length === 0 && d.feed.size === 0) continue;
      const blockedKeys = new Set<string>();
      const consider = (record: FeedRecord): 'sent' | 'skip' | 'stop' => {
        if (!this.mayTake(d, record, member, blockedKeys)) return this.rule.perPartition ? 'stop' : 'skip';
        if (!member.canTake(record.bytes, held) || batch.length >= most) {
          if (record.keyId !== undefined) blockedKeys.add(record.keyId);
          return this.rule.perPartition || !member.ready(held) ? 'stop' : 'skip';
        }
        member.credit.consume(record.bytes, held);
        batch.push(this.handOut(d, record, member.memberId));
        held++;
        return 'sent';
      };
      let stopped = false;
      d.requeued = false;
      for (const offset of [...d.ledger.redeliveries()]) {
        // Held records queued again (their key unblocked): the queue changed, next pass.
        if (requeuedDuringPass(d)) break;
        const record = d.outstanding.get(offset);
        if (!record) continue;
        // Behind a failed or delayed record of its key (BLOCK_KEY): held
        // until the key unblocks; other keys go on, in every mode.
        if (record.keyId !== undefined && this.blockedByFailure(d, record)) {
          d.ledger.unqueue(offset);
          d.outstanding.delete(offset);
          d.held.hold(record.keyId, record);
          continue;
        }
        if (consider(record) === 'stop') {
          stopped = true;
          break;
        }
      }
      // Records queued again meanwhile (a key unblocked) go before anything
      // of their key in the read-ahead: on the next pass.
      if (stopped || requeuedDuringPass(d)) continue;
      const taken: number[] = [];
      const delays: RetryState[] = [];
      const now = this.options.clock.now();
      let skipped = false;
      for (const { record, slot } of d.feed.records()) {
        // Redriven for another subscription: settled here without delivery.
        if (record.targetSubscription !== undefined && record.targetSubscription !== this.subscription.name) {
          d.ledger.settle(record.offset);
          taken.push(slot);
          skipped = true;
          continue;
        }
        // Published for later: waits on a timer, out of the read-ahead
        // (unless too many are being saved: then it waits in the read-ahead,
        // and so do the records after it).
        if (record.deliverAtMs > now) {
          if (d.delaySaves + delays.length >= maxDelaySaves) break;
          delays.push(this.delay(d, record));
          taken.push(slot);
          continue;
        }
        // Behind a failed or delayed record of its key: held until the key
        // unblocks, so that other keys go on.
        if (record.keyId !== undefined && this.blockedByFailure(d, record)) {
          d.held.hold(record.keyId, record);
          taken.push(slot);
          continue;
        }
        const outcome = consider(record);
        if (outcome === 'sent') taken.push(slot);
        if (outcome === 'stop' || requeuedDuringPass(d)) break;
      }
      for (const slot of taken) d.feed.remove(slot);
      if (delays.length > 0) this.saveDelays(d, delays);
      if (skipped) this.save(d);
    }
    if (batch.length > 0) {
      member.deliver(encodeDeliveryBatch(this.topicBytes, batch));
      this.metrics.delivered(batch);
    }
    // A full batch: the member may take more, and nothing else may come to
    // ask for it (a member with a large credit that acks late). Next turn,
    // after I/O waiting meanwhile.
    if (batch.length >= maxBatch) this.pumpNextTurn();
    return batch.length;
  }

  /** Ownership and per-key hand-over checks for one record. */
  private mayTake(d: PartitionDispatch, record: FeedRecord, member: MemberSession, blockedKeys: Set<string>): boolean {
    if (record.keyId !== undefined && blockedKeys.has(record.keyId)) return false;
    if (this.rule.perPartition) return true;
    const owner = this.rule.ownerOf(d.partition, record.key, record.offset, record.keyId);
    if (owner !== undefined && owner !== member.memberId) {
      if (record.keyId !== undefined) blockedKeys.add(record.keyId);
      return false;
    }
    if (this.mode === SubscriptionMode.SUBSCRIPTION_MODE_KEY_SHARED && record.keyId !== undefined) {
      const holder = d.keyHolders.get(record.keyId);
      if (holder && holder.memberId !== member.memberId) {
        // The key's previous owner still holds some of its records.
        blockedKeys.add(record.keyId);
        return false;
      }
    }
    return true;
  }

  /** BLOCK_KEY: whether an earlier failed (or delayed, or held) record of the key is not settled yet. */
  private blockedByFailure(d: PartitionDispatch, record: FeedRecord): boolean {
    if (record.keyId === undefined) return false;
    if (d.releasing.has(record.keyId)) return true;
    // Held records of the key are later than what blocked them; a record after them waits for them.
    const held = d.held.firstOffset(record.keyId);
    if (held !== undefined && held < record.offset) return true;
    if (d.blocked.size === 0) return false;
    const first = d.blocked.get(record.keyId)?.[0];
    return first !== undefined && first < record.offset;
  }

  /** `record` as its spans need it. */
  private traced(d: PartitionDispatch, offset: number, record: FeedRecord): TracedRecord {
    return { topic: this.options.topic, subscription: this.subscription.name, partition: d.partition, offset, payload: record.payload };
  }

  private handOut(d: PartitionDispatch, record: FeedRecord, memberId: string): DeliveryFrame {
    const lease = d.ledger.deliver(record.offset, memberId, record.keyId, record.bytes, this.leaseMs);
    // Checked here: the span's arguments are objects, and this runs for every delivered record.
    if (tracingEnabled()) traceRecord('deliver', this.traced(d, record.offset, record), { [attr.attempt]: lease.attempt });
    d.outstanding.set(record.offset, record);
    if (record.keyId !== undefined) {
      const holder = d.keyHolders.get(record.keyId);
      if (holder) holder.count++;
      else d.keyHolders.set(record.keyId, { memberId, count: 1 });
      // The record its key waited for (a retry, or a delayed record) is out
      // now. If nothing else of the key is out (records the member still has
      // to hand back would come back behind later ones), the key's later
      // records may follow it to the same member (its key's or partition's
      // owner), as they would have without the failure: a member processes
      // a key's records in delivery order and hands back those behind a
      // record that fails again, which blocks the key anew. That keeps a
      // retry one round trip instead of two. In SHARED any member could take
      // the later records, so there the key waits until the record is settled.
      if (!holder && this.mode !== SubscriptionMode.SUBSCRIPTION_MODE_SHARED && this.blocksKey(d, record.offset, record.keyId)) {
        this.unblockKey(d, record.offset, record.keyId);
      }
    }
    return { payload: record.payload, partition: d.partition, offset: record.offset, attempt: lease.attempt, leaseDeadlineMs: lease.deadline, redriveCount: record.redriveCount };
  }

  private forgetKeyHold(d: PartitionDispatch, lease: Lease): void {
    if (lease.keyId === undefined) return;
    const holder = d.keyHolders.get(lease.keyId);
    if (!holder || holder.memberId !== lease.memberId) return;
    holder.count--;
    if (holder.count <= 0) d.keyHolders.delete(lease.keyId);
  }

  private save(d: PartitionDispatch): void {
    this.options.store
      .subscriptions()
      .save(this.options.topicId, d.partition, this.subscription.name, d.ledger.snapshot())
      .catch((error: unknown) => {
        this.options.logger.error({ err: error, partition: d.partition, subscription: this.subscription.name }, 'saving subscription state failed');
      });
  }
}

/** The due time of the due entry `state` has in the retry store (undefined: none, or no state), as `RetryStore` takes it. */
function storedDueOf(state: RetryState | undefined): number | undefined {
  return state !== undefined && waitsForTimer(state) ? state.dueMs : undefined;
}
