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
 * Redeliveries (expired leases, nacks, departed members) go first, lowest
 * offset first. Acknowledgement state is saved through the storage's
 * group-committed subscription store after every change.
 */
import type { Clock, Logger } from '@braid/core';
import { FailedPreconditionError, toStreamError } from '@braid/core';
import { NoticeType, StartPosition, SubscriptionMode } from '@braid/proto';
import type { Subscription } from '@braid/proto';
import { OffsetRangeSet } from '@braid/storage';
import type { LogStore, PartitionLog } from '@braid/storage';
import { encodeDeliveryBatch, topicField } from './delivery-encoding.js';
import type { DeliveryFrame } from './delivery-encoding.js';
import { DeliveryLedger } from './delivery-ledger.js';
import type { Lease } from './delivery-ledger.js';
import type { MemberSession } from './member-session.js';
import { ownership } from './ownership.js';
import type { Ownership } from './ownership.js';
import { PartitionFeed } from './partition-feed.js';
import type { FeedRecord } from './partition-feed.js';

/** Most deliveries sent in one batch. */
const maxBatch = 500;

interface PartitionDispatch {
  readonly partition: number;
  readonly log: PartitionLog;
  readonly ledger: DeliveryLedger;
  readonly feed: PartitionFeed;
  /** Records out with members, by offset: redeliveries come from here. */
  readonly outstanding: Map<number, FeedRecord>;
  /** Key id -> member holding records of that key, and how many. */
  readonly keyHolders: Map<string, { memberId: string; count: number }>;
}

/** Options of `SubscriptionDispatcher.create`. */
export interface DispatcherOptions {
  topic: string;
  topicId: number;
  /** Partitions this broker leads. */
  partitions: number[];
  subscription: Subscription;
  store: LogStore;
  clock: Clock;
  logger: Logger;
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

/** See the file comment. */
export class SubscriptionDispatcher {
  private readonly members = new Map<string, MemberSession>();
  private rule: Ownership;
  private pumping = false;
  private pumpAgain = false;
  private closed = false;
  private readonly expiryTimer: NodeJS.Timeout;
  private memberCursor = 0;
  /** `StoredRecord.topic` as encoded in every delivery. */
  private readonly topicBytes: Buffer;

  private constructor(
    private readonly options: DispatcherOptions,
    private subscription: Subscription,
    private readonly dispatch: Map<number, PartitionDispatch>,
  ) {
    this.rule = ownership(this.mode, options.topic, []);
    this.topicBytes = topicField(options.topic);
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
      dispatch.set(partition, { partition, log, ledger, feed, outstanding: new Map(), keyHolders: new Map() });
    }
    return new SubscriptionDispatcher(options, options.subscription, dispatch);
  }

  private get mode(): SubscriptionMode {
    return this.subscription.config?.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED;
  }

  private get leaseMs(): number {
    return this.subscription.config?.ackTimeoutMs || 30_000;
  }

  /** Partitions dispatched here. */
  get partitions(): number[] {
    return [...this.dispatch.keys()];
  }

  /** Settings in force. */
  get settings(): Subscription {
    return this.subscription;
  }

  /** Applies changed settings (ack timeout, limits). */
  update(subscription: Subscription): void {
    this.subscription = subscription;
    this.pump();
  }

  /** Adds a member; a member id already connected replaces the old stream. */
  attach(session: MemberSession): void {
    const previous = this.members.get(session.memberId);
    if (previous && previous !== session) this.detach(previous);
    this.members.set(session.memberId, session);
    this.reassign();
  }

  /** Removes a member; what it held is delivered again. */
  detach(session: MemberSession): void {
    if (this.members.get(session.memberId) !== session) return;
    this.members.delete(session.memberId);
    for (const d of this.dispatch.values()) {
      for (const lease of d.ledger.release(session.memberId)) this.forgetKeyHold(d, lease);
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

  /** Per-partition progress for describe. */
  progress(): { partition: number; committedOffset: number; highWatermark: number; unacked: number; pendingRetries: number }[] {
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
    const fresh: PartitionDispatch = { partition, log: d.log, ledger, feed, outstanding: new Map(), keyHolders: new Map() };
    this.dispatch.set(partition, fresh);
    await this.options.store.subscriptions().save(this.options.topicId, partition, this.subscription.name, ledger.snapshot());
    this.pump();
    return offset;
  }

  /** Acknowledges ranges for a member; ranges it does not hold are reported on its stream. */
  ack(session: MemberSession, ranges: { partition: number; first: number; last: number }[]): void {
    const touched = new Set<PartitionDispatch>();
    for (const range of ranges) {
      const d = this.dispatch.get(range.partition);
      if (!d) {
        session.error(toStreamError(new FailedPreconditionError(`partition ${range.partition} is not dispatched by this broker`)));
        continue;
      }
      const outcome = d.ledger.ack(session.memberId, range.first, range.last);
      for (const lease of outcome.settled) {
        d.outstanding.delete(lease.offset);
        this.forgetKeyHold(d, lease);
      }
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

  /** A failed attempt reported by the member: the record is delivered again. */
  nack(session: MemberSession, partition: number, offset: number): void {
    const d = this.dispatch.get(partition);
    const lease = d?.ledger.fail(session.memberId, offset);
    if (!d || !lease) {
      session.error(toStreamError(new FailedPreconditionError(`nack of ${partition}:${offset}: not held by member ${session.memberId}`)));
      return;
    }
    this.forgetKeyHold(d, lease);
    this.save(d);
    this.pump();
  }

  /** New records may be readable on `partition`. */
  appended(partition: number): void {
    if (this.dispatch.has(partition)) this.pump();
  }

  /** Stops timers; sessions are ended by their streams. */
  close(): void {
    this.closed = true;
    clearInterval(this.expiryTimer);
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
      for (const lease of d.ledger.expire(now)) {
        this.forgetKeyHold(d, lease);
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
    // Rotate which member goes first, so SHARED spreads fairly.
    this.memberCursor = (this.memberCursor + 1) % members.length;
    for (let i = 0; i < members.length; i++) {
      const member = members[(this.memberCursor + i) % members.length];
      if (member) this.fill(member);
    }
  }

  /** Collects deliveries for one member from every partition and sends them. */
  private fill(member: MemberSession): void {
    const batch: DeliveryFrame[] = [];
    let held = this.heldBy(member.memberId);
    for (const d of this.dispatch.values()) {
      if (!member.ready(held) || batch.length >= maxBatch) break;
      if (this.rule.perPartition) {
        if (this.rule.ownerOf(d.partition, undefined, 0) !== member.memberId) continue;
        // Hand-over: wait until the previous owner's records are settled.
        if (d.ledger.outstanding > d.ledger.heldBy(member.memberId)) continue;
      }
      const blockedKeys = new Set<string>();
      const consider = (record: FeedRecord): 'sent' | 'skip' | 'stop' => {
        if (!this.mayTake(d, record, member, blockedKeys)) return this.rule.perPartition ? 'stop' : 'skip';
        if (!member.canTake(record.bytes, held) || batch.length >= maxBatch) {
          if (record.keyId !== undefined) blockedKeys.add(record.keyId);
          return this.rule.perPartition || !member.ready(held) ? 'stop' : 'skip';
        }
        member.credit.consume(record.bytes, held);
        batch.push(this.handOut(d, record, member.memberId));
        held++;
        return 'sent';
      };
      let stopped = false;
      for (const offset of [...d.ledger.redeliveries()]) {
        const record = d.outstanding.get(offset);
        if (!record) continue;
        if (consider(record) === 'stop') {
          stopped = true;
          break;
        }
      }
      if (stopped) continue;
      const taken: number[] = [];
      for (const { record, slot } of d.feed.records()) {
        const outcome = consider(record);
        if (outcome === 'sent') taken.push(slot);
        if (outcome === 'stop') break;
      }
      for (const slot of taken) d.feed.remove(slot);
    }
    if (batch.length > 0) member.deliver(encodeDeliveryBatch(this.topicBytes, batch));
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

  private handOut(d: PartitionDispatch, record: FeedRecord, memberId: string): DeliveryFrame {
    const lease = d.ledger.deliver(record.offset, memberId, record.keyId, record.bytes, this.leaseMs);
    d.outstanding.set(record.offset, record);
    if (record.keyId !== undefined) {
      const holder = d.keyHolders.get(record.keyId);
      if (holder) holder.count++;
      else d.keyHolders.set(record.keyId, { memberId, count: 1 });
    }
    return { payload: record.payload, partition: d.partition, offset: record.offset, attempt: lease.attempt, leaseDeadlineMs: lease.deadline, redriveCount: 0 };
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
