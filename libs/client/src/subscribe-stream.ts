/**
 * One member's session with one broker: a bidirectional `Subscribe` stream
 * (`open`, then credit and settlements up; `opened`, deliveries, notices and
 * stream errors down), kept alive across broker restarts.
 *
 * - **Credit.** A `CreditGrantor` (`@braid/flow`) sends the prefetch with
 *   `open` and gives back the credit of each record the application
 *   settles; a `CreditBatcher` gathers those returns into batched `credit`
 *   requests, never one per record. Pending acks go out before each top-up,
 *   so the broker sees the records settled before it may send more.
 * - **Acks** are batched by an `AckBatcher`; the nacks of one turn of the
 *   event loop go out together at its end (one `nacks` message), before
 *   any later reject or credit; rejects and explicit extensions are sent
 *   at once; a `LeaseExtender` extends the leases of
 *   records held (queued or being processed) before they run out. A
 *   failure nack that the broker retries with the key held back
 *   (`RETRY_ORDER_BLOCK_KEY`, not the last attempt) is reported to the
 *   consumer (`StreamHost.holdBackKey`), which parks the key's later
 *   records it holds until the retry comes back, or hands them back (nacks
 *   with `release`; see `blocked-keys.ts`).
 * - **Backpressure.** Writes respect `write()` returning false: later
 *   requests wait in order for `'drain'`.
 * - **Reconnect.** When the stream ends with a retriable status (the broker
 *   restarted: UNAVAILABLE, a clean end, ...), the stream re-opens after a
 *   `@braid/backoff` delay with the same member id. What the dead stream
 *   delivered and the application has not settled is delivered again by the
 *   broker, so it is not acked on the new stream: records still queued are
 *   dropped (`StreamHost.discard`), and settling one already in the
 *   application's hands only releases its credit locally. A terminal status
 *   (NOT_FOUND, INVALID_ARGUMENT, UNIMPLEMENTED, ...) fails the consumer.
 */
import { status as Status } from '@grpc/grpc-js';
import type { ClientDuplexStream, ServiceError } from '@grpc/grpc-js';
import { Backoff } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import { CancelledError, UnavailableError, fromGrpcError, fromStreamError } from '@braid/core';
import type { BraidError, Clock, Logger, Random } from '@braid/core';
import type { CreditGrant, CreditGrantor } from '@braid/flow';
import { ConsumerServiceClient, ConsumerServiceService, NoticeType } from '@braid/proto';
import type { DeliveryBatch, NackRequest, Notice, OpenRequest, OpenedResponse, SubscribeRequest, SubscribeResponse } from '@braid/proto';
import { AckBatcher } from './ack-batcher.js';
import { SubscribeResponseDecoder } from './delivery-decoding.js';
import type { ChannelPool } from './channels.js';
import { CreditBatcher } from './credit-batcher.js';
import { LeaseExtender } from './lease-extender.js';
import { nackBlocksKey, parkingTime } from './blocked-keys.js';
import { Message, notedLeaseDeadline, noteLeaseDeadline } from './message.js';
import type { AnyMessage, MessageSettler, Settlement } from './message.js';
import { inRanges } from './offset-ranges.js';

/** What a stream needs from its consumer. */
export interface StreamHost {
  /** New messages, in delivery order. */
  deliver(stream: SubscribeStream, messages: Message[]): void;
  /**
   * Some messages of `stream` are no longer held (the stream broke, or their
   * lease expired): take those still queued out of local queues and
   * `abandon()` them.
   */
  discard(stream: SubscribeStream): void;
  /**
   * Called before each reconnect (metadata may have moved). Resolves false
   * when this broker no longer leads any partition of the topic: the stream
   * then retires instead of reconnecting.
   */
  beforeReconnect(stream: SubscribeStream): Promise<boolean>;
  /** The stream failed for good (terminal status, or reconnects exhausted). */
  fail(stream: SubscribeStream, error: BraidError): void;
  /**
   * `message` was nacked as failed and the broker will retry it while
   * holding its key back (`RETRY_ORDER_BLOCK_KEY`, not its last attempt):
   * later records of the key held locally must not overtake the retry.
   * `parkForMs`: how long they may wait here for it (`parkingTime`), or
   * undefined to hand them back.
   */
  holdBackKey(stream: SubscribeStream, message: AnyMessage, parkForMs: number | undefined): void;
  /** Whether records of some key are held back behind a retry now (see `flushCreditIfDue`). */
  keysHeldBack(): boolean;
}

/** Options of {@link SubscribeStream}. */
export interface SubscribeStreamOptions {
  /** The broker (host:port). */
  address: string;
  /** Where the channel to the broker comes from. */
  pool: ChannelPool;
  /** The `open` request, less its initial credit. */
  open: Omit<OpenRequest, 'initialCredit'>;
  /** This stream's credit model (kept across reconnects), with `topUpThreshold: 1`. */
  grantor: CreditGrantor;
  /** Longest a credit top-up waits for others, in ms. */
  creditLingerMs: number;
  /** Acks per `ack` request at most. */
  ackBatchSize: number;
  /** Longest an ack waits for others, in ms. */
  ackFlushMs: number;
  /** Longest a held record's lease is extended automatically, from its delivery, in ms. */
  maxLeaseExtensionMs: number;
  /** Fraction of the remaining lease after which it is extended. */
  leaseExtensionAt: number;
  /** Lease length when the broker does not report the subscription's ack timeout, in ms. */
  defaultLeaseMs: number;
  /** Delays between reconnect attempts. */
  reconnect: BackoffPolicy;
  /** Time source. */
  clock: Clock;
  /** Jitter source. */
  random: Random;
  /** Logger with the consumer's fields bound. */
  logger: Logger;
  /** The consumer. */
  host: StreamHost;
}

type Call = ClientDuplexStream<SubscribeRequest, SubscribeResponse>;

/** Codes that end a stream for a reason a later stream can overcome. */
const reconnectCodes: ReadonlySet<Status> = new Set([Status.CANCELLED, Status.DEADLINE_EXCEEDED, Status.ABORTED]);

/** See the file comment. */
export class SubscribeStream implements MessageSettler {
  /** The broker this stream talks to. */
  readonly address: string;

  private client: ConsumerServiceClient | undefined;
  private call: Call | undefined;
  private openedResponse: OpenedResponse | undefined;
  private writable = true;
  private outbox: SubscribeRequest[] = [];
  /**
   * The records delivered and not yet settled, each with whether it is
   * live: false once its stream broke or its lease expired (settling it then
   * sends nothing).
   */
  private readonly held = new Map<AnyMessage, boolean>();
  private readonly acks: AckBatcher;
  /** Nacks of this turn, sent at its end (`queueNack`). */
  private nacks: NackRequest[] = [];
  private nackFlush: NodeJS.Immediate | undefined;
  private readonly credit: CreditBatcher;
  private readonly leases: LeaseExtender<AnyMessage>;
  private readonly backoff: Backoff;
  private readonly stop = new AbortController();
  private draining = false;
  private closed = false;
  private leaseMs: number;
  private everOpened = false;
  /** Open and not failed since: the reconnect budget (`deadlineMs`) counts from the next failure. */
  private healthy = false;
  private firstOpen: Deferred<OpenedResponse> = deferred();
  private callEnded: Deferred<undefined> | undefined;
  private settledWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly options: SubscribeStreamOptions) {
    this.address = options.address;
    this.leaseMs = options.open.config?.ackTimeoutMs || options.defaultLeaseMs;
    this.acks = new AckBatcher({
      maxBatch: options.ackBatchSize,
      flushMs: options.ackFlushMs,
      clock: options.clock,
      send: (ranges) => { this.write({ kind: { $case: 'ack', value: { ranges } } }); },
    });
    const { prefetchRecords, prefetchBytes } = options.grantor;
    this.credit = new CreditBatcher({
      batchRecords: Math.max(1, Math.ceil(prefetchRecords / 2)),
      batchBytes: Number.isFinite(prefetchBytes) ? Math.max(1, Math.ceil(prefetchBytes / 2)) : Number.POSITIVE_INFINITY,
      lingerMs: options.creditLingerMs,
      clock: options.clock,
      send: (grant) => {
        // Settlements first: the broker frees the member's unacked slots before the credit lets it send more.
        this.acks.flush();
        this.flushNacks();
        this.write({ kind: { $case: 'credit', value: { records: grant.records, bytes: grant.bytes } } });
      },
    });
    this.leases = new LeaseExtender<AnyMessage>({
      clock: options.clock,
      leaseMs: () => this.leaseMs,
      maxExtensionMs: options.maxLeaseExtensionMs,
      extendAt: options.leaseExtensionAt,
      send: (ranges, extendMs) => { this.write({ kind: { $case: 'extend', value: { ranges, extendMs } } }); },
    });
    this.backoff = new Backoff({ ...options.reconnect, clock: options.clock, random: options.random });
  }

  /** Records delivered on this stream (or an earlier one of it) and not settled yet. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Partitions the broker said it leads (empty while not open). */
  get partitions(): readonly number[] {
    return this.openedResponse?.partitions ?? [];
  }

  /** Opens the stream. */
  start(): void {
    this.connect();
  }

  /**
   * Resolves with the broker's first `opened` answer; rejects when the
   * stream fails for good (or closes) before that.
   */
  whenOpened(): Promise<OpenedResponse> {
    return this.firstOpen.promise;
  }

  /** Resolves once every record delivered on this stream is settled (or abandoned). */
  whenSettled(): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /** Stops granting credit and reconnecting (the first step of `close()`). */
  stopCredit(): void {
    this.draining = true;
    this.credit.discard();
  }

  /**
   * The application waits for records (or holds none): sends the credit
   * gathered for a batch now if it is worth a request or the broker may be
   * short of credit. Batches go out on their own at half the prefetch, so
   * the broker has the other half unless the application holds records it
   * cannot process yet (parked behind a retry of their key); then waiting
   * stalls deliveries. Otherwise a quarter of the prefetch is worth sending
   * early. Sending whatever has gathered at every wait made a consumer that
   * keeps up request a few dozen records at a time (`bench throughput`:
   * ~3,000 delivery batches for 200,000 records instead of ~430).
   *
   * While keys are held back behind retries, whatever has gathered goes out
   * at once, as before: smaller deliveries put fewer records of a key that
   * fails into the application's hands, each of which it must hand back to
   * come again (with half-prefetch batches `bench throughput --fail-ratio
   * 0.1` delivered ~227,000 records for 200,000 instead of ~220,000, and
   * ran ~10% slower).
   */
  flushCreditIfDue(): void {
    if (this.draining || !this.call) return;
    const { grantor } = this.options;
    const pending = this.credit.pending;
    if (pending.records === 0 && pending.bytes === 0) return;
    const bytesLimited = Number.isFinite(grantor.prefetchBytes);
    const worthIt = pending.records >= grantor.prefetchRecords / 4 || (bytesLimited && pending.bytes >= grantor.prefetchBytes / 4);
    const brokerRecords = grantor.outstandingRecords - grantor.heldRecords - pending.records;
    const brokerBytes = grantor.outstandingBytes - grantor.heldBytes - pending.bytes;
    const short = brokerRecords < grantor.prefetchRecords / 2 || (bytesLimited && brokerBytes < grantor.prefetchBytes / 2);
    if (worthIt || short || this.options.host.keysHeldBack()) this.credit.flush();
  }

  /**
   * Ends the session gracefully: sends pending acks, half-closes the stream
   * once everything written has left, and waits up to `timeoutMs` for the
   * broker to end it (then cancels it).
   */
  async end(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.closed = true;
    this.stop.abort();
    this.firstOpen.reject(new CancelledError('consumer closed'));
    const call = this.call;
    if (call) {
      this.acks.flush();
      this.flushNacks();
      const ended = this.callEnded?.promise ?? Promise.resolve();
      const timer = new AbortController();
      const timedOut = this.options.clock.sleep(timeoutMs, timer.signal).then(
        () => true,
        () => false,
      );
      if (this.outbox.length > 0) await Promise.race([new Promise<void>((resolve) => this.drainWaiters.push(resolve)), timedOut]);
      call.end();
      const late = await Promise.race([ended.then(() => false), timedOut]);
      timer.abort();
      if (late) {
        this.options.logger.debug({ broker: this.address }, 'broker did not end the subscribe stream in time; cancelling it');
        call.cancel();
      }
    }
    this.shutDown();
  }

  /** Ends the session at once, sending nothing more. */
  abort(): void {
    this.draining = true;
    this.closed = true;
    this.stop.abort();
    this.firstOpen.reject(new CancelledError('consumer closed'));
    this.call?.cancel();
    this.shutDown();
  }

  /** Whether `message` is held on the live stream (settling it reaches the broker). */
  holds(message: AnyMessage): boolean {
    return this.held.get(message) === true;
  }

  /** Releases a message's credit without settling it: the broker delivers it again. */
  abandon(message: AnyMessage): void {
    this.release(message, undefined);
  }

  settle(message: AnyMessage, settlement: Settlement): void {
    this.release(message, settlement);
  }

  extend(message: AnyMessage, ms: number): void {
    if (!this.holds(message) || !this.call) return;
    this.leases.extend(message, ms);
  }

  leaseDeadline(message: AnyMessage): number {
    return this.leases.deadline(message) ?? notedLeaseDeadline(message);
  }

  private connect(): void {
    if (this.closed) return;
    this.client ??= this.options.pool.client(this.address, ConsumerServiceClient);
    // The generated method with a decoder of our own for the responses (`delivery-decoding.ts`).
    const { path, requestSerialize } = ConsumerServiceService.subscribe;
    const decoder = new SubscribeResponseDecoder();
    const call = this.client.makeBidiStreamRequest<SubscribeRequest, SubscribeResponse>(path, requestSerialize, (bytes) => decoder.decode(bytes));
    this.call = call;
    this.openedResponse = undefined;
    this.writable = true;
    this.outbox = [];
    const ended = deferred<undefined>();
    this.callEnded = ended;
    call.on('data', (response: SubscribeResponse) => { this.onResponse(call, response); });
    call.on('drain', () => { this.onDrain(call); });
    // A non-OK status arrives as 'error' (then 'status'); an OK one only as 'status'.
    call.on('error', (error: ServiceError) => {
      ended.resolve(undefined);
      this.onEnd(call, error);
    });
    call.on('status', (status: { code: Status }) => {
      ended.resolve(undefined);
      if (status.code === Status.OK) this.onEnd(call, undefined);
    });
    const grant = this.options.grantor.open();
    this.write({ kind: { $case: 'open', value: { ...this.options.open, initialCredit: { records: grant.records, bytes: grant.bytes } } } });
    this.options.logger.debug({ broker: this.address, credit: grant }, 'subscribe stream opening');
  }

  private onResponse(call: Call, response: SubscribeResponse): void {
    if (this.call !== call) return;
    const kind = response.kind;
    switch (kind?.$case) {
      case 'opened':
        this.onOpened(kind.value);
        break;
      case 'deliveries':
        this.onDeliveries(kind.value);
        break;
      case 'notice':
        this.onNotice(kind.value);
        break;
      case 'error': {
        // A settle or credit request failed; the stream stays open. Typical
        // causes: an ack for a record whose lease expired (it is delivered
        // again), or a broker without nack/reject yet (UNIMPLEMENTED: the
        // record comes back when its lease expires).
        const error = fromStreamError(kind.value);
        this.options.logger.warn({ broker: this.address, code: Status[error.code], reason: error.reason, err: error }, 'broker refused a request on the subscribe stream');
        break;
      }
      case undefined:
        break;
    }
  }

  private onOpened(opened: OpenedResponse): void {
    this.openedResponse = opened;
    this.leaseMs = opened.config?.ackTimeoutMs || this.leaseMs;
    this.healthy = true;
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.firstOpen.resolve(opened);
    this.options.logger.info(
      { broker: this.address, partitions: opened.partitions, leaseMs: this.leaseMs },
      reconnected ? 'subscribe stream re-opened' : 'subscribe stream opened',
    );
  }

  private onDeliveries(batch: DeliveryBatch): void {
    const { grantor } = this.options;
    const messages: Message[] = [];
    for (const delivery of batch.deliveries) {
      const record = delivery.record;
      if (!record) {
        this.options.logger.warn({ broker: this.address }, 'delivery without a record; ignored');
        continue;
      }
      // The broker must never send past the credit: a delivery beyond it
      // would let the local queue grow without bound, so it is dropped (its
      // lease runs out and the broker delivers it again).
      if (grantor.outstandingRecords - grantor.heldRecords < 1) {
        this.options.logger.error(
          { broker: this.address, partition: record.partition, offset: record.offset },
          'broker sent a delivery beyond the credit granted; dropped',
        );
        continue;
      }
      const message = new Message(delivery, record, this);
      grantor.onDelivered(message.size);
      this.held.set(message, true);
      this.leases.add(message, delivery.leaseDeadlineMs);
      messages.push(message);
    }
    if (messages.length > 0) this.options.host.deliver(this, messages);
  }

  private onNotice(notice: Notice): void {
    const fields = { broker: this.address, partitions: notice.partitions, notice: NoticeType[notice.type] };
    if (notice.type === NoticeType.NOTICE_TYPE_LEASE_EXPIRED) {
      // Those records come again: stop extending them and drop the copies
      // still queued. One already in the application's hands is released
      // locally when it is settled.
      let expired = 0;
      for (const [message, live] of this.held) {
        if (live && inRanges(notice.ranges, message)) {
          this.held.set(message, false);
          this.leases.remove(message);
          expired += 1;
        }
      }
      this.options.logger.warn({ ...fields, expired }, 'leases expired before the records were settled; they will be delivered again');
      if (expired > 0) this.options.host.discard(this);
      return;
    }
    this.options.logger.info(fields, notice.message || 'notice from the broker');
  }

  private onDrain(call: Call): void {
    if (this.call !== call) return;
    this.writable = true;
    while (this.writable && this.outbox.length > 0) {
      const next = this.outbox.shift();
      if (next) this.writable = call.write(next);
    }
    if (this.outbox.length === 0) for (const waiter of this.drainWaiters.splice(0)) waiter();
  }

  private onEnd(call: Call, error: ServiceError | undefined): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.openedResponse = undefined;
    this.outbox = [];
    for (const waiter of this.drainWaiters.splice(0)) waiter();
    this.invalidate();
    if (this.closed || this.draining) return;
    const braid = error ? fromGrpcError(error) : new UnavailableError(`broker ${this.address} ended the subscribe stream`);
    if (!braid.retriable && !reconnectCodes.has(braid.code)) {
      this.failForGood(braid);
      return;
    }
    if (this.healthy) {
      // The first failure after a good session: attempts and deadline count from now.
      this.healthy = false;
      this.backoff.reset();
    }
    const delay = this.backoff.next();
    if (delay === undefined) {
      this.failForGood(new UnavailableError(`gave up reconnecting to broker ${this.address} after ${this.backoff.attempts} attempts: ${braid.message}`, { cause: braid }));
      return;
    }
    this.options.logger.warn({ broker: this.address, code: Status[braid.code], err: braid, delayMs: Math.round(delay) }, 'subscribe stream lost; reconnecting');
    void this.reconnectAfter(delay);
  }

  private async reconnectAfter(delay: number): Promise<void> {
    try {
      await this.options.clock.sleep(delay, this.stop.signal);
    } catch (error) {
      // Closed while waiting; nothing to reconnect.
      if (this.stop.signal.aborted) return;
      throw error;
    }
    if (this.stopped()) return;
    const stillLeads = await this.options.host.beforeReconnect(this);
    if (this.stopped()) return;
    if (!stillLeads) {
      this.options.logger.info({ broker: this.address }, 'broker no longer leads partitions of the topic; stream retired');
      this.closed = true;
      this.shutDown();
      return;
    }
    this.connect();
  }

  /** Whether the stream is closing or closed (no reconnect). */
  private stopped(): boolean {
    return this.closed || this.draining;
  }

  /** Everything the dead stream delivered is no longer held there: nothing of it goes to the broker again. */
  private invalidate(): void {
    this.acks.discard();
    this.discardNacks();
    this.credit.discard();
    this.leases.clear();
    let lost = 0;
    for (const [message, live] of this.held) {
      if (live) lost += 1;
      this.held.set(message, false);
    }
    if (lost > 0) this.options.host.discard(this);
  }

  private failForGood(error: BraidError): void {
    this.closed = true;
    this.firstOpen.reject(error);
    this.options.logger.error({ broker: this.address, code: Status[error.code], err: error }, 'subscribe stream failed');
    this.options.host.fail(this, error);
  }

  private release(message: AnyMessage, settlement: Settlement | undefined): void {
    const live = this.held.get(message);
    if (live === undefined) return;
    this.held.delete(message);
    noteLeaseDeadline(message, this.leaseDeadline(message));
    this.leases.remove(message);
    const sent = settlement !== undefined && live && this.call !== undefined;
    if (sent) this.sendSettlement(message, settlement);
    // A failure the broker retries with the key held back (by this session's subscription settings).
    const config = this.openedResponse?.config;
    const blocksKey = sent && settlement.kind === 'nack' && nackBlocksKey(config, message.attempt);
    this.grant(this.options.grantor.onSettled(message.size));
    if (this.held.size === 0) for (const waiter of this.settledWaiters.splice(0)) waiter();
    // Last, once this record's bookkeeping is done: the host releases the key's later records through this stream.
    if (blocksKey) this.options.host.holdBackKey(this, message, parkingTime(config, message.attempt, settlement.delayMs));
  }

  private sendSettlement(message: AnyMessage, settlement: Settlement): void {
    const { partition, offset } = message;
    switch (settlement.kind) {
      case 'ack':
        this.acks.add(partition, offset);
        break;
      case 'nack':
        this.queueNack({ partition, offset, delayMs: settlement.delayMs, reason: settlement.reason, errorClass: settlement.errorClass, release: false });
        break;
      case 'release':
        // Handed back unprocessed: delivered again, no attempt counted.
        this.queueNack({ partition, offset, delayMs: undefined, reason: '', errorClass: '', release: true });
        break;
      case 'reject':
        this.flushNacks();
        this.write({ kind: { $case: 'reject', value: { partition, offset, reason: settlement.reason, errorClass: settlement.errorClass } } });
        break;
    }
  }

  /**
   * Gathers a nack: the nacks of one turn of the event loop go out together
   * at its end, in order (handlers that fail together, and the records
   * handed back behind them, cost the broker one message instead of one
   * each).
   */
  private queueNack(nack: NackRequest): void {
    this.nacks.push(nack);
    this.nackFlush ??= setImmediate(() => {
      this.nackFlush = undefined;
      this.flushNacks();
    });
  }

  /** Sends the gathered nacks now: one `nacks` message (a lone one as `nack`). */
  private flushNacks(): void {
    const nacks = this.discardNacks();
    const [only] = nacks;
    if (nacks.length === 1 && only) this.write({ kind: { $case: 'nack', value: only } });
    else if (nacks.length > 1) this.write({ kind: { $case: 'nacks', value: { nacks } } });
  }

  /** Takes the gathered nacks out, unsent (the stream they were for is gone, or `flushNacks` sends them). */
  private discardNacks(): NackRequest[] {
    if (this.nackFlush) clearImmediate(this.nackFlush);
    this.nackFlush = undefined;
    const nacks = this.nacks;
    this.nacks = [];
    return nacks;
  }

  private grant(grant: CreditGrant | undefined): void {
    // Without a live stream the grant is dropped: `grantor.open()` works the
    // credit out afresh for the next stream.
    if (!grant || this.draining || !this.call) return;
    this.credit.add(grant);
    if (this.held.size === 0) this.flushCreditIfDue();
  }

  private write(message: SubscribeRequest): void {
    const call = this.call;
    if (!call) return;
    if (this.writable && this.outbox.length === 0) this.writable = call.write(message);
    else this.outbox.push(message);
  }

  private shutDown(): void {
    this.acks.discard();
    this.discardNacks();
    this.credit.discard();
    this.leases.clear();
    this.call = undefined;
    // Not `client.close()`: that would close the channel the consumer's
    // other clients share; the consumer closes its channel pool itself.
    this.client = undefined;
  }
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

/** A promise with its settle functions; a rejection nobody awaits is not reported as unhandled. */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
