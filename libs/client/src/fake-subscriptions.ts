/**
 * The consume side of `FakeBroker` (`./testing.ts`): subscriptions over the
 * fake's in-memory partition logs, the `ConsumerService.Subscribe` protocol
 * and the subscription part of `AdminService`. A test double of the
 * broker's contract (proto/braid/v1/consumer.proto), not of its storage:
 *
 * - a stream must start with `open` (else FAILED_PRECONDITION); an unknown
 *   topic or subscription ends it with NOT_FOUND, bad credit with
 *   INVALID_ARGUMENT;
 * - deliveries never exceed the member's credit (records, and bytes once it
 *   granted some: key + value per record, `CreditWindow` from `@braid/flow`)
 *   nor the subscription's `max_unacked_per_member`;
 * - acks, extends, nacks and rejects of records the member does not hold
 *   are answered with a `StreamError` and the stream stays open;
 * - settling follows the subscription's retry policy, as the broker does
 *   (issue 5): a nack, an expired lease (LEASE_EXPIRED notice to the
 *   member) or a member whose stream broke is a failed attempt; the record
 *   comes again with attempt + 1 after the nack's `delay_ms`, else the
 *   policy's backoff (`@braid/backoff`'s `computeDelay` with the policy's
 *   jitter; a broken stream's records at once), until its last attempt
 *   (`max_attempts`), when it goes to `deadLetters` instead; reject
 *   dead-letters at once. A nack with `release` hands the record back
 *   unprocessed: delivered again at once (or after `delay_ms`), no attempt
 *   counted, the key not blocked; so does a member that ends its stream
 *   cleanly, for what it held. A member id that opens again replaces its old
 *   stream;
 * - with `RETRY_ORDER_BLOCK_KEY` (the default of PARTITIONED and
 *   KEY_SHARED) a keyed record that failed and is not settled yet holds
 *   back every later record of its key in its partition, new or
 *   redelivered; other keys flow past. `blockKeys: false` turns this off
 *   (a broker that delivers them anyway, as one does before it learns of
 *   the failure);
 * - PARTITIONED subscriptions give each partition to one member
 *   (rendezvous hashing); KEY_SHARED and SHARED ones hand records to any
 *   member with credit (the fake does not split keys).
 *
 * Everything a test may want to assert on is public: the requests received,
 * deliveries made, the most records any member held unsettled.
 */
import { status as Status } from '@grpc/grpc-js';
import type { ServerDuplexStream, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  PartitionOutOfRangeError,
  SubscriptionNotFoundError,
  UnimplementedError,
  assertValidName,
  toBraidError,
  toGrpcStatus,
  toStreamError,
} from '@braid/core';
import { computeDelay, subscriptionBackoff } from '@braid/backoff';
import type { Clock, Random } from '@braid/core';
import { CreditWindow } from '@braid/flow';
import { partitionItem, rendezvousOwner } from '@braid/partitioning';
import {
  CircuitState,
  Jitter,
  NoticeType,
  RetryOrder,
  StartPosition,
  SubscriptionConfig,
  SubscriptionMode,
} from '@braid/proto';
import type {
  AdminServiceServer,
  Delivery,
  DescribeSubscriptionResponse,
  NackRequest,
  OffsetRange,
  OpenRequest,
  PartitionPosition,
  SeekRequest,
  StoredRecord,
  SubscribeRequest,
  SubscribeResponse,
  Subscription,
  SubscriptionPartition,
  Topic,
} from '@braid/proto';

/** One record in a fake partition log. */
export interface FakeLogRecord {
  /** Offset in the partition. */
  offset: number;
  /** Key as UTF-8 (undefined without a key). */
  key: string | undefined;
  /** Value as UTF-8. */
  value: string;
  /** Headers. */
  headers: Record<string, string>;
  /** Producer id of the batch that appended it ('' when appended directly). */
  producerId: string;
  /** The key's bytes. */
  keyBytes: Buffer | undefined;
  /** The value's bytes. */
  valueBytes: Buffer;
  /** When the fake appended it (its clock's ms). */
  publishTimeMs: number;
}

/** What the subscriptions need to know about a topic. */
export interface FakeTopicView {
  readonly topic: Topic;
  readonly logs: readonly (readonly FakeLogRecord[])[];
  /** Leader address per partition. */
  readonly leaders: readonly string[];
}

/** Options of {@link FakeSubscriptions}. */
export interface FakeSubscriptionsOptions {
  /** The fake broker's address: it dispatches the partitions it leads. */
  address: string;
  /** Time source of leases and publish times. */
  clock: Clock;
  /** A topic by name; throws `TopicNotFoundError` for an unknown one. */
  topic: (name: string) => FakeTopicView;
  /** Answer nack and reject with UNIMPLEMENTED (as a broker before the retries issue). */
  settleUnimplemented: boolean;
  /** Hold back later records of a failed record's key under RETRY_ORDER_BLOCK_KEY. */
  blockKeys: boolean;
  /** Jitter source of retry delays. */
  random: Random;
}

/** One request received on a Subscribe stream. */
export interface FakeSubscribeRequest {
  /** Number of the stream (1 for the first opened on this fake). */
  stream: number;
  /** Member id ('' before `open`). */
  memberId: string;
  /** The request. */
  request: SubscribeRequest;
}

/** One delivery made. */
export interface FakeDelivery {
  stream: number;
  memberId: string;
  partition: number;
  offset: number;
  attempt: number;
}

/** A dead-lettered record: rejected, or failed on its last attempt. */
export interface FakeDeadLetter {
  topic: string;
  subscription: string;
  partition: number;
  offset: number;
  /** The delivery attempt that failed last. */
  attempt: number;
  /** The reject's or the last nack's reason; `lease_expired` or `member_left` when those failed it. */
  reason: string;
  errorClass: string;
}

/** How an attempt failed. */
interface Failure {
  reason: string;
  errorClass: string;
  /** The member's delay; undefined: the policy's backoff. */
  delayMs: number | undefined;
}

interface Lease {
  readonly memberId: string;
  readonly attempt: number;
  deadline: number;
}

interface PartitionState {
  /** Every offset below it is settled. */
  cursor: number;
  /** Settled offsets at or above the cursor. */
  acked: Set<number>;
  /** Next offset never delivered. */
  next: number;
  leases: Map<number, Lease>;
  /** Offsets to deliver again, with the earliest time. */
  redeliver: Map<number, number>;
  /** Deliveries counted per offset (attempts so far; a release takes one back). */
  attempts: Map<number, number>;
  /** Keyed records that failed and are not settled yet: offsets by key (base64). */
  failing: Map<string, Set<number>>;
  /** New records skipped because an earlier record of their key is failing. */
  heldBack: Set<number>;
}

interface Member {
  readonly memberId: string;
  readonly stream: number;
  readonly call: ServerDuplexStream<SubscribeRequest, SubscribeResponse>;
  readonly sub: FakeSubscription;
  readonly credit: CreditWindow;
  readonly connectedAtMs: number;
  writable: boolean;
  open: boolean;
}

interface FakeSubscription {
  subscription: Subscription;
  readonly partitions: PartitionState[];
  readonly members: Map<string, Member>;
}

const maxBatch = 500;

/** See the file comment. */
export class FakeSubscriptions {
  /** Every Subscribe request received, in arrival order. */
  readonly requests: FakeSubscribeRequest[] = [];
  /** Every delivery made, in order. */
  readonly deliveries: FakeDelivery[] = [];
  /** Rejected records. */
  readonly deadLetters: FakeDeadLetter[] = [];
  /** The most records each member id held unsettled at once (delivered, not acked, nacked, rejected or expired). */
  readonly maxHeld = new Map<string, number>();
  /** Streams opened so far. */
  streams = 0;

  private readonly subs = new Map<string, FakeSubscription>();
  private readonly expiry: NodeJS.Timeout;
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly options: FakeSubscriptionsOptions) {
    // Lease expiry, checked often enough for tests with short ack timeouts.
    this.expiry = setInterval(() => { this.expireLeases(); }, 10);
    this.expiry.unref();
  }

  /** Stops the expiry timer. */
  close(): void {
    clearInterval(this.expiry);
    for (const sub of this.subs.values()) for (const member of sub.members.values()) member.open = false;
  }

  /** Creates a subscription (as `CreateSubscription` does). */
  create(topic: string, name: string, config?: SubscriptionConfig): Subscription {
    assertValidName('subscription', name);
    const view = this.options.topic(topic);
    if (this.subs.has(subKey(topic, name))) throw new AlreadyExistsError(`subscription "${name}" on topic "${topic}" already exists`);
    const filled = fillConfig(topic, name, config);
    const subscription: Subscription = { topic, name, config: filled, createdAtMs: this.options.clock.now() };
    const partitions = view.logs.map((log) => {
      const start = startOffset(log, filled);
      return freshState(start);
    });
    this.subs.set(subKey(topic, name), { subscription, partitions, members: new Map() });
    return subscription;
  }

  /** The subscriptions of a topic, by name. */
  of(topic: string): Subscription[] {
    return [...this.subs.values()]
      .map((s) => s.subscription)
      .filter((s) => s.topic === topic)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Forgets the subscriptions of a deleted topic. */
  dropTopic(topic: string): void {
    for (const [key, sub] of this.subs) {
      if (sub.subscription.topic !== topic) continue;
      for (const member of sub.members.values()) this.endStream(member, new SubscriptionNotFoundError(topic, sub.subscription.name));
      this.subs.delete(key);
    }
  }

  /** New records may be in `topic`: deliver them. */
  appended(topic: string): void {
    for (const sub of this.subs.values()) if (sub.subscription.topic === topic) this.pump(sub);
  }

  /** Ends every Subscribe stream with UNAVAILABLE, as a broker restart would; held records become deliverable again. */
  dropStreams(): void {
    for (const sub of this.subs.values()) {
      for (const member of [...sub.members.values()]) this.endStream(member, { code: Status.UNAVAILABLE, details: 'fake broker dropped the subscribe stream' });
    }
  }

  /** Subscribe streams attached as members, over every subscription. */
  get streamCount(): number {
    let count = 0;
    for (const sub of this.subs.values()) count += sub.members.size;
    return count;
  }

  /** Member ids connected to a subscription. */
  members(topic: string, name: string): string[] {
    return [...this.require(topic, name).members.keys()];
  }

  /** Ends leases past their deadline and delivers due retries now (a timer also does this every 10 ms). */
  expireLeases(): void {
    const now = this.options.clock.now();
    for (const sub of this.subs.values()) {
      const expired = new Map<string, OffsetRange[]>();
      sub.partitions.forEach((state, partition) => {
        for (const [offset, lease] of state.leases) {
          if (lease.deadline > now) continue;
          state.leases.delete(offset);
          // An expired lease is a failed attempt: backoff, or the dead-letter topic after the last one.
          this.failed(sub, partition, state, offset, lease.attempt, { reason: 'lease_expired', errorClass: '', delayMs: undefined });
          const ranges = expired.get(lease.memberId) ?? [];
          ranges.push({ partition, first: offset, last: offset });
          expired.set(lease.memberId, ranges);
        }
      });
      for (const [memberId, ranges] of expired) {
        const member = sub.members.get(memberId);
        if (member) {
          this.write(member, {
            kind: { $case: 'notice', value: { type: NoticeType.NOTICE_TYPE_LEASE_EXPIRED, message: 'leases expired', partitions: [...new Set(ranges.map((r) => r.partition))], ranges } },
          });
        }
      }
      // Expired leases, and nacked records whose delay has passed, go out again.
      if (expired.size > 0 || sub.partitions.some((state) => state.redeliver.size > 0)) this.pump(sub);
    }
  }

  /** The `ConsumerService.Subscribe` handler. */
  subscribe(call: ServerDuplexStream<SubscribeRequest, SubscribeResponse>): void {
    this.streams += 1;
    const stream = this.streams;
    let member: Member | undefined;
    let ended = false;
    const fail = (error: unknown): void => {
      ended = true;
      if (member) this.detach(member, true);
      call.emit('error', toGrpcStatus(error));
    };
    call.on('data', (request: SubscribeRequest) => {
      if (ended) return;
      this.requests.push({ stream, memberId: member?.memberId ?? '', request });
      try {
        const kind = request.kind;
        if (!member) {
          if (kind?.$case !== 'open') throw new FailedPreconditionError('the first message on a Subscribe stream must be open');
          member = this.open(stream, call, kind.value);
          return;
        }
        if (!member.open) return;
        switch (kind?.$case) {
          case 'open':
            throw new FailedPreconditionError('open was sent twice on one stream');
          case 'credit':
            grant(member.credit, kind.value.records, kind.value.bytes);
            this.pump(member.sub);
            break;
          case 'ack':
            this.ack(member, kind.value.ranges);
            break;
          case 'extend':
            this.extend(member, kind.value.ranges, kind.value.extendMs);
            break;
          case 'nack':
            this.nack(member, kind.value);
            break;
          case 'nacks':
            for (const nack of kind.value.nacks) this.nack(member, nack);
            break;
          case 'reject':
            this.reject(member, kind.value.partition, kind.value.offset, kind.value.reason, kind.value.errorClass);
            break;
          case undefined:
            throw new InvalidArgumentError('empty Subscribe request');
        }
      } catch (error) {
        fail(error);
      }
    });
    call.on('drain', () => {
      if (!member) return;
      member.writable = true;
      this.pump(member.sub);
    });
    call.on('end', () => {
      // A member that ends its stream hands back what it held (no attempt counted).
      if (member) this.detach(member, false);
      if (!ended) {
        ended = true;
        call.end();
      }
    });
    call.on('cancelled', () => {
      ended = true;
      if (member) this.detach(member, true);
    });
    call.on('error', () => {
      ended = true;
      if (member) this.detach(member, true);
    });
  }

  /** The subscription part of `AdminService`. */
  adminHandlers(): Pick<
    AdminServiceServer,
    'createSubscription' | 'updateSubscription' | 'deleteSubscription' | 'listSubscriptions' | 'describeSubscription' | 'seek'
  > {
    return {
      createSubscription: unary((request) => ({ subscription: this.create(request.topic, request.name, request.config) })),
      updateSubscription: unary((request) => ({ subscription: this.update(request.topic, request.name, request.config) })),
      deleteSubscription: unary((request) => {
        const sub = this.require(request.topic, request.name);
        for (const member of sub.members.values()) this.endStream(member, new SubscriptionNotFoundError(request.topic, request.name));
        this.subs.delete(subKey(request.topic, request.name));
        return {};
      }),
      listSubscriptions: unary((request) => ({
        subscriptions: [...this.subs.values()]
          .map((s) => s.subscription)
          .filter((s) => request.topic === '' || s.topic === request.topic)
          .sort((a, b) => a.topic.localeCompare(b.topic) || a.name.localeCompare(b.name)),
      })),
      describeSubscription: unary((request) => this.describe(request.topic, request.name)),
      seek: unary((request) => ({ positions: this.seek(request) })),
    };
  }

  private require(topic: string, name: string): FakeSubscription {
    this.options.topic(topic);
    const sub = this.subs.get(subKey(topic, name));
    if (!sub) throw new SubscriptionNotFoundError(topic, name);
    return sub;
  }

  private update(topic: string, name: string, config: SubscriptionConfig | undefined): Subscription {
    const sub = this.require(topic, name);
    const current = sub.subscription.config ?? fillConfig(topic, name, undefined);
    const next = fillConfig(topic, name, { ...SubscriptionConfig.fromPartial({}), ...config, mode: config?.mode || current.mode, startPosition: config?.startPosition || current.startPosition });
    if (next.mode !== current.mode || next.startPosition !== current.startPosition) {
      throw new FailedPreconditionError('mode and start_position of a subscription cannot change');
    }
    sub.subscription = { ...sub.subscription, config: next };
    this.pump(sub);
    return sub.subscription;
  }

  /** What `DescribeSubscription` answers: settings, per-partition progress, members. */
  describe(topic: string, name: string): DescribeSubscriptionResponse {
    const sub = this.require(topic, name);
    const view = this.options.topic(topic);
    const partitions: SubscriptionPartition[] = sub.partitions.map((state, partition) => {
      const highWatermark = view.logs[partition]?.length ?? 0;
      return {
        partition,
        committedOffset: state.cursor,
        highWatermark,
        lag: highWatermark - state.cursor,
        unacked: state.leases.size,
        pendingRetries: state.redeliver.size,
      };
    });
    const members = [...sub.members.values()].map((member) => ({
      memberId: member.memberId,
      brokerId: 'fake-1',
      connectedAtMs: member.connectedAtMs,
      unacked: this.heldBy(sub, member.memberId),
      creditRecords: member.credit.availableRecords,
      partitions: this.isPartitioned(sub) ? this.ownedPartitions(sub, member.memberId) : [],
    }));
    return { subscription: sub.subscription, partitions, members, circuitState: CircuitState.CIRCUIT_STATE_UNSPECIFIED };
  }

  private seek(request: SeekRequest): PartitionPosition[] {
    const sub = this.require(request.topic, request.name);
    const view = this.options.topic(request.topic);
    const targets = new Map<number, number>();
    const target = request.target;
    const count = sub.partitions.length;
    switch (target?.$case) {
      case 'offsets':
        for (const { partition, offset } of target.value.positions) {
          if (partition < 0 || partition >= count) throw new PartitionOutOfRangeError(request.topic, partition, count);
          targets.set(partition, offset);
        }
        break;
      case 'timestampMs':
        view.logs.forEach((log, partition) => targets.set(partition, offsetAtTime(log, target.value)));
        break;
      case 'earliest':
        view.logs.forEach((log, partition) => targets.set(partition, target.value ? 0 : log.length));
        break;
      case undefined:
        throw new InvalidArgumentError('seek needs a target: offsets, timestamp_ms or earliest');
    }
    const positions: PartitionPosition[] = [];
    for (const [partition, wanted] of [...targets].sort((a, b) => a[0] - b[0])) {
      const state = sub.partitions[partition];
      if (!state) continue;
      const offset = Math.min(Math.max(0, wanted), view.logs[partition]?.length ?? 0);
      Object.assign(state, freshState(offset));
      positions.push({ partition, offset });
    }
    this.pump(sub);
    return positions;
  }

  private open(stream: number, call: ServerDuplexStream<SubscribeRequest, SubscribeResponse>, open: OpenRequest): Member {
    assertValidName('subscription', open.subscription);
    const view = this.options.topic(open.topic);
    let sub = this.subs.get(subKey(open.topic, open.subscription));
    if (!sub) {
      if (!open.createIfMissing) throw new SubscriptionNotFoundError(open.topic, open.subscription);
      this.create(open.topic, open.subscription, open.config);
      sub = this.require(open.topic, open.subscription);
    }
    const credit = new CreditWindow();
    if (open.initialCredit) grant(credit, open.initialCredit.records, open.initialCredit.bytes);
    const memberId = open.memberId || `member-${stream}`;
    const previous = sub.members.get(memberId);
    if (previous) this.endStream(previous, new FailedPreconditionError(`member ${memberId} opened another stream`));
    const member: Member = { memberId, stream, call, sub, credit, connectedAtMs: this.options.clock.now(), writable: true, open: true };
    sub.members.set(memberId, member);
    const led = view.leaders.flatMap((leader, partition) => (leader === this.options.address ? [partition] : []));
    this.write(member, { kind: { $case: 'opened', value: { memberId, config: sub.subscription.config, partitions: led } } });
    this.pump(sub);
    return member;
  }

  private ack(member: Member, ranges: readonly OffsetRange[]): void {
    const { sub } = member;
    for (const range of ranges) {
      const state = sub.partitions[range.partition];
      let notHeld = 0;
      for (let offset = range.first; offset <= range.last; offset++) {
        const lease = state?.leases.get(offset);
        if (state && lease?.memberId === member.memberId) {
          state.leases.delete(offset);
          state.attempts.delete(offset);
          clearFailing(state, offset);
          settle(state, offset);
        } else if (!state || (offset >= state.cursor && !state.acked.has(offset))) {
          notHeld += 1;
        }
      }
      if (notHeld > 0) {
        this.streamError(member, new FailedPreconditionError(`ack of ${range.partition}:${range.first}-${range.last}: ${notHeld} record(s) not held by member ${member.memberId}`));
      }
    }
    this.pump(sub);
  }

  private extend(member: Member, ranges: readonly OffsetRange[], extendMs: number): void {
    const deadline = this.options.clock.now() + (extendMs || this.ackTimeoutMs(member.sub));
    for (const range of ranges) {
      const state = member.sub.partitions[range.partition];
      let notHeld = 0;
      for (let offset = range.first; offset <= range.last; offset++) {
        const lease = state?.leases.get(offset);
        if (lease?.memberId === member.memberId) lease.deadline = deadline;
        else notHeld += 1;
      }
      if (notHeld > 0) this.streamError(member, new FailedPreconditionError(`extend of ${range.partition}:${range.first}-${range.last}: record(s) not held by member ${member.memberId}`));
    }
  }

  private nack(member: Member, request: NackRequest): void {
    const { partition, offset } = request;
    if (this.options.settleUnimplemented) {
      this.streamError(member, new UnimplementedError('nack is not implemented by this broker yet'));
      return;
    }
    const state = member.sub.partitions[partition];
    const lease = state?.leases.get(offset);
    if (!state || lease?.memberId !== member.memberId) {
      this.streamError(member, new FailedPreconditionError(`nack of ${partition}:${offset}: not held by member ${member.memberId}`));
      return;
    }
    state.leases.delete(offset);
    if (request.release) handBack(state, offset, lease.attempt, this.options.clock.now() + (request.delayMs ?? 0));
    else this.failed(member.sub, partition, state, offset, lease.attempt, { reason: request.reason, errorClass: request.errorClass, delayMs: request.delayMs });
    this.pump(member.sub);
  }

  private reject(member: Member, partition: number, offset: number, reason: string, errorClass: string): void {
    if (this.options.settleUnimplemented) {
      this.streamError(member, new UnimplementedError('reject is not implemented by this broker yet'));
      return;
    }
    const state = member.sub.partitions[partition];
    const lease = state?.leases.get(offset);
    if (!state || lease?.memberId !== member.memberId) {
      this.streamError(member, new FailedPreconditionError(`reject of ${partition}:${offset}: not held by member ${member.memberId}`));
      return;
    }
    state.leases.delete(offset);
    this.deadLetter(member.sub, partition, state, offset, lease.attempt, reason, errorClass);
    this.pump(member.sub);
  }

  /**
   * A failed attempt (nack, expired lease, broken stream): the record waits
   * for its retry, holding its key back under BLOCK_KEY, or is dead-lettered
   * after the policy's last attempt.
   */
  private failed(sub: FakeSubscription, partition: number, state: PartitionState, offset: number, attempt: number, failure: Failure): void {
    const policy = sub.subscription.config?.retryPolicy;
    const backoff = subscriptionBackoff(policy);
    if (attempt >= backoff.maxAttempts) {
      this.deadLetter(sub, partition, state, offset, attempt, failure.reason, failure.errorClass);
      return;
    }
    const delay = failure.delayMs ?? Math.round(computeDelay(backoff, attempt, undefined, this.options.random));
    state.redeliver.set(offset, this.options.clock.now() + delay);
    const key = this.blockingKey(sub, partition, offset);
    if (key === undefined) return;
    const offsets = state.failing.get(key) ?? new Set<number>();
    offsets.add(offset);
    state.failing.set(key, offsets);
  }

  private deadLetter(sub: FakeSubscription, partition: number, state: PartitionState, offset: number, attempt: number, reason: string, errorClass: string): void {
    state.attempts.delete(offset);
    state.redeliver.delete(offset);
    clearFailing(state, offset);
    settle(state, offset);
    const { topic, name } = sub.subscription;
    this.deadLetters.push({ topic, subscription: name, partition, offset, attempt, reason, errorClass });
  }

  /** The key (base64) whose later records a failure of this record holds back, if the subscription blocks keys. */
  private blockingKey(sub: FakeSubscription, partition: number, offset: number): string | undefined {
    if (!this.options.blockKeys || sub.subscription.config?.retryPolicy?.retryOrder !== RetryOrder.RETRY_ORDER_BLOCK_KEY) return undefined;
    return this.options.topic(sub.subscription.topic).logs[partition]?.[offset]?.keyBytes?.toString('base64');
  }

  /** Whether an earlier record of this record's key is failing (BLOCK_KEY): it waits. */
  private heldBackByKey(sub: FakeSubscription, partition: number, state: PartitionState, offset: number): boolean {
    if (state.failing.size === 0) return false;
    const key = this.blockingKey(sub, partition, offset);
    const failing = key === undefined ? undefined : state.failing.get(key);
    if (!failing) return false;
    for (const failed of failing) if (failed < offset) return true;
    return false;
  }

  /** Ends a member's stream with `status`; what it held counts as failed (member_left). */
  private endStream(member: Member, status: unknown): void {
    this.detach(member, true);
    member.call.emit('error', status instanceof Error ? toGrpcStatus(status) : status);
  }

  /**
   * Forgets a member whose stream ended; its leases end and the records
   * become deliverable again. A `broken` stream (an error, a cancel, the
   * broker ending it) failed the attempts it held (reason `member_left`,
   * retried at once); a stream the member ended handed them back.
   */
  private detach(member: Member, broken: boolean): void {
    if (!member.open) return;
    member.open = false;
    const { sub } = member;
    if (sub.members.get(member.memberId) !== member) return;
    sub.members.delete(member.memberId);
    const now = this.options.clock.now();
    sub.partitions.forEach((state, partition) => {
      for (const [offset, lease] of state.leases) {
        if (lease.memberId !== member.memberId) continue;
        state.leases.delete(offset);
        if (broken) this.failed(sub, partition, state, offset, lease.attempt, { reason: 'member_left', errorClass: '', delayMs: 0 });
        else handBack(state, offset, lease.attempt, now);
      }
    });
    this.pump(sub);
  }

  /** Hands out what the members' credit allows, redeliveries first. */
  private pump(sub: FakeSubscription): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (const member of [...sub.members.values()]) this.fill(member);
      } while (this.askedAgain());
    } finally {
      this.pumping = false;
    }
  }

  /** Whether a pump was asked for while pumping (read through a call: the flag changes behind the compiler's back). */
  private askedAgain(): boolean {
    return this.pumpAgain;
  }

  private fill(member: Member): void {
    if (!member.open || !member.writable) return;
    const { sub } = member;
    const view = this.options.topic(sub.subscription.topic);
    const now = this.options.clock.now();
    const maxUnacked = sub.subscription.config?.maxUnackedPerMember || 1000;
    let held = this.heldBy(sub, member.memberId);
    const batch: Delivery[] = [];
    const take = (partition: number, state: PartitionState, offset: number): boolean => {
      const record = view.logs[partition]?.[offset];
      if (!record) return false;
      const bytes = (record.keyBytes?.length ?? 0) + record.valueBytes.length;
      if (batch.length >= maxBatch || held >= maxUnacked || !member.credit.canSend(bytes)) return false;
      member.credit.consume(bytes);
      const attempt = (state.attempts.get(offset) ?? 0) + 1;
      state.attempts.set(offset, attempt);
      const deadline = now + this.ackTimeoutMs(sub);
      state.leases.set(offset, { memberId: member.memberId, attempt, deadline });
      state.redeliver.delete(offset);
      batch.push({ record: storedRecord(sub.subscription.topic, partition, record), attempt, leaseDeadlineMs: deadline, redriveCount: 0 });
      this.deliveries.push({ stream: member.stream, memberId: member.memberId, partition, offset, attempt });
      held += 1;
      this.maxHeld.set(member.memberId, Math.max(this.maxHeld.get(member.memberId) ?? 0, held));
      return true;
    };
    const owned = this.isPartitioned(sub) ? new Set(this.ownedPartitions(sub, member.memberId)) : undefined;
    sub.partitions.forEach((state, partition) => {
      if (view.leaders[partition] !== this.options.address || (owned && !owned.has(partition))) return;
      // Redeliveries that are due and records held back by their key, lowest offset first; a key still blocked waits.
      const due = [...state.redeliver].filter(([, at]) => at <= now).map(([offset]) => offset);
      for (const offset of [...due, ...state.heldBack].sort((a, b) => a - b)) {
        if (this.heldBackByKey(sub, partition, state, offset)) continue;
        if (!take(partition, state, offset)) return;
        state.heldBack.delete(offset);
      }
      const log = view.logs[partition] ?? [];
      while (state.next < log.length) {
        const offset = state.next;
        if (offset < state.cursor || state.acked.has(offset) || state.leases.has(offset) || state.redeliver.has(offset)) {
          state.next += 1;
          continue;
        }
        if (this.heldBackByKey(sub, partition, state, offset)) {
          state.heldBack.add(offset);
          state.next += 1;
          continue;
        }
        if (!take(partition, state, offset)) return;
        state.next += 1;
      }
    });
    if (batch.length > 0) this.write(member, { kind: { $case: 'deliveries', value: { deliveries: batch } } });
  }

  private isPartitioned(sub: FakeSubscription): boolean {
    return (sub.subscription.config?.mode ?? SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED) === SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED;
  }

  private ownedPartitions(sub: FakeSubscription, memberId: string): number[] {
    const members = [...sub.members.keys()];
    return sub.partitions.flatMap((_state, partition) =>
      rendezvousOwner(partitionItem(sub.subscription.topic, partition), members) === memberId ? [partition] : [],
    );
  }

  private heldBy(sub: FakeSubscription, memberId: string): number {
    let held = 0;
    for (const state of sub.partitions) for (const lease of state.leases.values()) if (lease.memberId === memberId) held += 1;
    return held;
  }

  private ackTimeoutMs(sub: FakeSubscription): number {
    return sub.subscription.config?.ackTimeoutMs || 30_000;
  }

  private streamError(member: Member, error: unknown): void {
    this.write(member, { kind: { $case: 'error', value: toStreamError(error) } });
  }

  private write(member: Member, response: SubscribeResponse): void {
    if (!member.open) return;
    if (!member.call.write(response)) member.writable = false;
  }
}

function subKey(topic: string, name: string): string {
  return `${topic}\u0000${name}`;
}

function grant(credit: CreditWindow, records: number, bytes: number): void {
  if (!Number.isSafeInteger(records) || records < 0 || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new InvalidArgumentError(`credit must be whole numbers >= 0, got records ${records}, bytes ${bytes}`);
  }
  credit.grant(records, bytes);
}

function settle(state: PartitionState, offset: number): void {
  if (offset < state.cursor) return;
  state.acked.add(offset);
  while (state.acked.delete(state.cursor)) state.cursor += 1;
}

function freshState(start: number): PartitionState {
  return {
    cursor: start,
    acked: new Set(),
    next: start,
    leases: new Map(),
    redeliver: new Map(),
    attempts: new Map(),
    failing: new Map(),
    heldBack: new Set(),
  };
}

/** A record handed back unprocessed: delivered again from `at`, the attempt it was delivered with not counted. */
function handBack(state: PartitionState, offset: number, attempt: number, at: number): void {
  if (attempt > 1) state.attempts.set(offset, attempt - 1);
  else state.attempts.delete(offset);
  state.redeliver.set(offset, at);
}

/** A failed record was settled (acked or dead-lettered): its key flows again. */
function clearFailing(state: PartitionState, offset: number): void {
  for (const [key, offsets] of state.failing) {
    if (!offsets.delete(offset)) continue;
    if (offsets.size === 0) state.failing.delete(key);
    return;
  }
}

function offsetAtTime(log: readonly FakeLogRecord[], timeMs: number): number {
  const index = log.findIndex((record) => record.publishTimeMs >= timeMs);
  return index < 0 ? log.length : index;
}

function startOffset(log: readonly FakeLogRecord[], config: SubscriptionConfig): number {
  switch (config.startPosition) {
    case StartPosition.START_POSITION_EARLIEST:
      return 0;
    case StartPosition.START_POSITION_TIMESTAMP:
      return offsetAtTime(log, config.startTimeMs);
    default:
      return log.length;
  }
}

function storedRecord(topic: string, partition: number, record: FakeLogRecord): StoredRecord {
  return {
    topic,
    partition,
    offset: record.offset,
    key: record.keyBytes,
    value: record.valueBytes,
    headers: record.headers,
    publishTimeMs: record.publishTimeMs,
    deliverAtMs: 0,
    targetSubscription: '',
    redriveCount: 0,
  };
}

/** A subscription's settings with the defaults the contract names filled in. */
function fillConfig(topic: string, name: string, config: SubscriptionConfig | undefined): SubscriptionConfig {
  const c = config ?? SubscriptionConfig.fromPartial({});
  for (const [field, value] of [
    ['ack_timeout_ms', c.ackTimeoutMs],
    ['max_unacked_per_member', c.maxUnackedPerMember],
    ['start_time_ms', c.startTimeMs],
  ] as const) {
    if (value < 0) throw new InvalidArgumentError(`${field} must not be negative, got ${value}`);
  }
  const mode = c.mode || SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED;
  const retry = c.retryPolicy;
  const breaker = c.circuitBreaker;
  return {
    mode,
    startPosition: c.startPosition || StartPosition.START_POSITION_LATEST,
    startTimeMs: c.startTimeMs,
    ackTimeoutMs: c.ackTimeoutMs || 30_000,
    maxUnackedPerMember: c.maxUnackedPerMember || 1_000,
    retryPolicy: {
      maxAttempts: retry?.maxAttempts || 5,
      initialBackoffMs: retry?.initialBackoffMs || 1_000,
      multiplier: retry?.multiplier || 2,
      maxBackoffMs: retry?.maxBackoffMs || 60_000,
      jitter: retry?.jitter || Jitter.JITTER_FULL,
      retryOrder: retry?.retryOrder || (mode === SubscriptionMode.SUBSCRIPTION_MODE_SHARED ? RetryOrder.RETRY_ORDER_SKIP : RetryOrder.RETRY_ORDER_BLOCK_KEY),
    },
    deadLetterTopic: c.deadLetterTopic || `${topic}.${name}.dlq`,
    rateLimit: { recordsPerSecond: c.rateLimit?.recordsPerSecond ?? 0, burst: c.rateLimit?.burst ?? 0 },
    circuitBreaker: {
      enabled: breaker?.enabled ?? false,
      failureRatio: breaker?.failureRatio || 0.5,
      windowMs: breaker?.windowMs || 10_000,
      minSettlements: breaker?.minSettlements || 20,
      cooldownMs: breaker?.cooldownMs || 30_000,
      probeRecords: breaker?.probeRecords || 5,
    },
  };
}

function unary<Req, Res>(handler: (request: Req) => Res) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    try {
      callback(null, handler(call.request));
    } catch (error) {
      callback(toGrpcStatus(toBraidError(error)));
    }
  };
}
