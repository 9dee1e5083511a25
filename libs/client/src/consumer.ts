/**
 * `Consumer`: receives the records of one subscription as a member of it.
 * Wiring of the consume path — topic metadata to find the partition
 * leaders, one `SubscribeStream` per leader (credit, batched acks, lease
 * extension, reconnect), one queue feeding `for await` or `run()`'s
 * key-ordered handlers — plus a graceful `close()`. Before a message reaches
 * the application it is parsed (`parse`), paced (`rateLimit`) and checked
 * against the keys held back behind a failed record (`BlockedKeys`);
 * `run()` settles by the handler's outcome (`auto-settle.ts`).
 */
import { randomUUID } from 'node:crypto';
import { RetryExhaustedError, resolveBackoffPolicy, retry } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  assertValidName,
  fromGrpcError,
  silentLogger,
  systemClock,
  systemRandom,
} from '@braid/core';
import type { BraidError, Clock, Logger, Random } from '@braid/core';
import { CreditGrantor, TokenBucket } from '@braid/flow';
import { Admin, brokerList, subscriptionConfig } from './admin.js';
import type { SubscriptionSettings } from './admin.js';
import { rejectUnparsable, settleFailure, settleSuccess } from './auto-settle.js';
import { BlockedKeys } from './blocked-keys.js';
import { ChannelPool } from './channels.js';
import type { ConnectionOptions } from './channels.js';
import { consumerDefaults, consumerReconnectDefaults } from './defaults.js';
import { processingContext, releaseUnprocessed, settlerOf, startProcessing, watchSettle, withData } from './message.js';
import { clientMetrics } from '@braid/telemetry';
import type { AnyMessage, Message } from './message.js';
import { context } from '@opentelemetry/api';
import { MessageQueue } from './message-queue.js';
import { topicRoute } from './metadata-cache.js';
import type { TopicRoute } from './metadata-cache.js';
import { SlotScheduler } from './slot-scheduler.js';
import { SubscribeStream } from './subscribe-stream.js';
import type { StreamHost } from './subscribe-stream.js';
import { timedOut } from './flush-timer.js';

/**
 * Turns a record's value into the payload the application works with
 * (`message.data`). Throwing rejects the record as poison.
 */
export type PayloadParser<T> = (value: Buffer, message: Message) => T;

/** Options of {@link ConsumerOptions.rateLimit}. */
export interface RateLimitOptions {
  /** Messages handed to the application per second at most, sustained (> 0; may be fractional: `0.5` is one every 2 s). */
  recordsPerSecond: number;
  /** Messages that may start at once after an idle spell, a whole number >= 1 (default: one second's worth, at least 1). */
  burst?: number;
}

/**
 * Options of {@link Consumer}. Defaults live in `consumerDefaults`.
 *
 * @typeParam T - type of `message.data`: what `parse` returns (`Buffer`, the value, without it).
 */
export interface ConsumerOptions<T = Buffer> extends ConnectionOptions {
  /** Bootstrap broker `host:port` (or several, or a comma-separated list); metadata names the partition leaders. */
  brokers: string | readonly string[];
  /** Topic to consume. */
  topic: string;
  /** Subscription to consume as a member of. */
  subscription: string;
  /**
   * Stable id of this member (default: a random UUID, fixed for this
   * instance). A reconnect re-opens with the same id and so keeps the same
   * partitions or keys; a restarted process that reuses its id gets them
   * back too.
   */
  memberId?: string;
  /** Create the subscription with `settings` if it does not exist (default false: NOT_FOUND). */
  createIfMissing?: boolean;
  /** Settings of a subscription created through `createIfMissing` (mode, start position, ack timeout, ...). */
  settings?: SubscriptionSettings;
  /**
   * Records delivered and not yet settled that the brokers may send this
   * consumer (default 1000), split evenly over the brokers it streams from.
   * Credit is topped up as the application settles records, in batches.
   */
  prefetchRecords?: number;
  /** Bytes (key + value) likewise (default 64 MiB); `Infinity` counts records only. */
  prefetchBytes?: number;
  /** Acknowledgements sent together in one request at most (default 100). */
  ackBatchSize?: number;
  /** Longest an acknowledgement waits for others before it is sent, in ms (default 20). */
  ackFlushMs?: number;
  /**
   * Longest the consumer keeps extending the lease of a record it holds
   * (queued or being processed), counted from its delivery, in ms (default
   * 30 min). After it the lease runs out and the broker delivers the record
   * again. `0` turns automatic extension off.
   */
  maxLeaseExtensionMs?: number;
  /** Default handlers `run()` runs at once (default 1). */
  concurrency?: number;
  /**
   * Parses each record's value before the application sees it; the result
   * is `message.data`, typed `T`. A record whose value makes it throw is
   * rejected as poison (dead-lettered, reason `parse failed: <message>`,
   * the error's name as error class) and never reaches the handler or the
   * loop. Called once per delivery, just before the message is handed out.
   * Default: none (`data` is the value bytes).
   */
  parse?: PayloadParser<T>;
  /**
   * Local rate limit: at most `recordsPerSecond` messages are handed to the
   * application per second in this process (handlers started by `run()`,
   * messages yielded by `for await`), with bursts of up to `burst`. For
   * per-process limits; a limit across all members of the subscription is
   * the subscription's `rateLimit`, enforced by the brokers. Records waiting
   * for a token keep their credit and their leases are extended. Default:
   * no limit.
   */
  rateLimit?: RateLimitOptions;
  /** Delays between reconnects to a broker, and between metadata attempts (default: 100 ms doubling to 5 s, full jitter, no limit). */
  reconnect?: BackoffPolicy;
  /** Deadline of each metadata call, in ms (default 10000). */
  metadataTimeoutMs?: number;
  /** Time source (default the system clock). */
  clock?: Clock;
  /** Randomness for jitter (default `Math.random`). */
  random?: Random;
  /** Logger (default silent). */
  logger?: Logger;
}

/** Options of {@link Consumer.run}. */
export interface RunOptions {
  /**
   * Handlers running at once (default: the consumer's `concurrency`, 1).
   * Records of one key are still processed one at a time, in order.
   */
  concurrency?: number;
}

/** Options of {@link Consumer.close}. */
export interface ConsumerCloseOptions {
  /**
   * How long to wait for records in the application's hands (being
   * iterated or handled) to be settled, in ms (default 30000). Records still
   * unsettled then are delivered again by the broker.
   */
  timeoutMs?: number;
}

/**
 * A handler for {@link Consumer.run}: return (or resolve) to ack, throw a
 * `PoisonMessageError` to reject (dead-letter now), throw anything else to
 * nack (retry after the subscription's backoff). A handler may also settle
 * the message itself; the consumer then does nothing more.
 */
export type MessageHandler<T = Buffer> = (message: Message<T>) => Promise<void> | void;

/**
 * `parse` is required when `T` is not `Buffer`: without it `message.data`
 * is the value bytes, so `new Consumer<Order>({ ... })` without a parser
 * does not compile.
 */
export type ParseRequirement<T> = Buffer extends T ? unknown : { parse: PayloadParser<T> };

type State = 'idle' | 'running' | 'closing' | 'closed';

/**
 * Receives a subscription's records, as one member of it:
 *
 * ```ts
 * const consumer = new Consumer({ brokers: 'localhost:7401', topic: 'orders', subscription: 'billing' });
 * for await (const msg of consumer) {
 *   await bill(JSON.parse(msg.value.toString()));
 *   msg.ack();
 * }
 * ```
 *
 * or, with handlers running concurrently while each key stays in order:
 *
 * ```ts
 * await consumer.run(async (msg) => { await bill(msg); }, { concurrency: 16 }); // return: ack, throw: nack
 * ```
 *
 * With `parse`, the handler gets typed payloads and records that do not
 * parse are dead-lettered without reaching it:
 *
 * ```ts
 * const orders = new Consumer({ ...options, parse: (value) => JSON.parse(value.toString()) as Order });
 * await orders.run(async (msg) => {
 *   if (msg.data.amount < 0) throw new PoisonMessageError('negative amount'); // reject: dead-letter now
 *   await bill(msg.data); // return: ack; throw: nack, retried with backoff
 * });
 * ```
 *
 * The consumer connects on first use (or `connect()`), streams from every
 * broker leading a partition of the topic, and lets the brokers send at most
 * `prefetchRecords` / `prefetchBytes` unsettled records; the local queue
 * never holds more. Leases of held records are extended automatically (up
 * to `maxLeaseExtensionMs`); acks are batched. A broker restart is ridden
 * out with reconnects (same member id); records the lost stream delivered
 * and the application had not settled come again.
 *
 * Failures that retrying cannot fix (unknown topic or subscription:
 * NOT_FOUND; bad settings: INVALID_ARGUMENT; a broker without the consumer
 * service: UNIMPLEMENTED) end the consumer: the loop throws the
 * `BraidError`, `run()` rejects with it.
 *
 * @typeParam T - type of `message.data`, inferred from the `parse` option
 *   (`Buffer`, the value, without it).
 */
export class Consumer<T = Buffer> implements AsyncIterable<Message<T>> {
  /** This member's id. */
  readonly memberId: string;
  /** Topic consumed. */
  readonly topic: string;
  /** Subscription consumed. */
  readonly subscription: string;

  private readonly metrics = clientMetrics();
  private readonly brokers: string[];
  private readonly pool: ChannelPool;
  private readonly admin: Admin;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly reconnect: BackoffPolicy;
  private readonly createIfMissing: boolean;
  private readonly settings: SubscriptionSettings | undefined;
  private readonly prefetchRecords: number;
  private readonly prefetchBytes: number;
  private readonly ackBatchSize: number;
  private readonly ackFlushMs: number;
  private readonly maxLeaseExtensionMs: number;
  private readonly concurrency: number;
  private readonly parse: PayloadParser<T>;
  private readonly rateLimit: TokenBucket | undefined;
  private readonly blocked: BlockedKeys<AnyMessage>;
  /** Whether a loop hands back parked records whose retry is late. */
  private sweepingParked = false;
  private readonly streams = new Map<string, SubscribeStream>();
  private readonly queue = new MessageQueue<Message>(() => {
    // The application waits for records: credit gathered for a batch may go out now.
    for (const stream of this.streams.values()) stream.flushCreditIfDue();
  });
  private readonly shutdownSignal = new AbortController();
  private readonly host: StreamHost;
  private state: State = 'idle';
  /** `connect()` has resolved once. */
  private isConnected = false;
  private failure: BraidError | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private scheduler: SlotScheduler<Message> | undefined;
  private perStream: { records: number; bytes: number } | undefined;

  /**
   * @throws InvalidArgumentError for no broker, a bad topic or subscription
   *   name, `parse` or `rateLimit`; RangeError for another invalid option.
   */
  constructor(options: ConsumerOptions<T> & ParseRequirement<T>) {
    this.brokers = brokerList(options.brokers);
    assertValidName('topic', options.topic);
    assertValidName('subscription', options.subscription);
    this.topic = options.topic;
    this.subscription = options.subscription;
    this.memberId = options.memberId ?? randomUUID();
    if (this.memberId === '') throw new RangeError('consumer option "memberId" must not be empty');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.logger = (options.logger ?? silentLogger).child({
      component: 'consumer',
      topic: this.topic,
      subscription: this.subscription,
      memberId: this.memberId,
    });
    this.createIfMissing = options.createIfMissing ?? false;
    this.settings = options.settings;
    this.prefetchRecords = wholeAtLeast('prefetchRecords', options.prefetchRecords ?? consumerDefaults.prefetchRecords, 1);
    // Parked records hold credit: at most half the prefetch, so other keys keep flowing.
    this.blocked = new BlockedKeys<AnyMessage>(() => this.clock.now(), Math.max(1, Math.floor(this.prefetchRecords / 2)));
    this.prefetchBytes = options.prefetchBytes ?? consumerDefaults.prefetchBytes;
    if (this.prefetchBytes !== Number.POSITIVE_INFINITY) wholeAtLeast('prefetchBytes', this.prefetchBytes, 1);
    this.ackBatchSize = wholeAtLeast('ackBatchSize', options.ackBatchSize ?? consumerDefaults.ackBatchSize, 1);
    this.ackFlushMs = wholeAtLeast('ackFlushMs', options.ackFlushMs ?? consumerDefaults.ackFlushMs, 0);
    this.maxLeaseExtensionMs = options.maxLeaseExtensionMs ?? consumerDefaults.maxLeaseExtensionMs;
    if (this.maxLeaseExtensionMs !== Number.POSITIVE_INFINITY) wholeAtLeast('maxLeaseExtensionMs', this.maxLeaseExtensionMs, 0);
    this.concurrency = wholeAtLeast('concurrency', options.concurrency ?? consumerDefaults.concurrency, 1);
    this.parse = payloadParser(options.parse);
    this.rateLimit = rateLimiter(options.rateLimit, this.clock);
    this.reconnect = { ...consumerReconnectDefaults, ...options.reconnect };
    resolveBackoffPolicy(this.reconnect);
    this.pool = new ChannelPool(options);
    this.admin = new Admin({ brokers: this.brokers, pool: this.pool, timeoutMs: options.metadataTimeoutMs });
    this.host = {
      deliver: (_stream, messages) => { this.onDeliver(messages); },
      discard: (stream) => { this.discardStale(stream); },
      beforeReconnect: (stream) => this.refreshRoutes(stream),
      fail: (_stream, error) => { void this.shutDown(error, 0); },
      holdBackKey: (_stream, message, parkForMs) => { this.holdBackKey(message, parkForMs); },
      keysHeldBack: () => this.blocked.size > 0,
    };
  }

  /**
   * Connects: looks up the partition leaders and opens a Subscribe stream
   * to each. Resolves once every broker answered `opened` (so a subscription
   * created by `createIfMissing` exists). Iterating or `run()` calls it
   * themselves. Rejects with the failure that ended the consumer, or with
   * FAILED_PRECONDITION after `close()`.
   */
  connect(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.state === 'closing' || this.state === 'closed') {
      return Promise.reject(new FailedPreconditionError('consumer is closed'));
    }
    this.connecting ??= this.start();
    return this.connecting;
  }

  /**
   * The messages, in delivery order, for `for await`. Leaving the loop
   * (`break`, `return`, a throw) leaves the consumer running, its queued
   * messages waiting for the next loop: call `close()` to stop. The loop
   * ends after `close()`, and throws the error that ended the consumer.
   *
   * @throws FailedPreconditionError (from `next()`) while `run()` is running.
   */
  [Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    return {
      next: async () => {
        if (this.scheduler) throw new FailedPreconditionError('run() is consuming this consumer; iterate or run, not both');
        return this.nextMessage();
      },
      return: () => Promise.resolve({ done: true, value: undefined }),
    };
  }

  /**
   * Runs `handler` for every message until the consumer is closed, up to
   * `concurrency` at once. Records of one key go to the same slot
   * (`slotForKey`) and are handled one at a time in delivery order; keyless
   * records are spread round-robin.
   *
   * Settles for the handler, unless it settled the message itself: it
   * returns -> `ack()`; it throws a `PoisonMessageError` -> `reject()` with
   * the error's message and name; it throws anything else -> `nack()` with
   * the error's message and name (retried after the subscription's
   * backoff). A record whose value `parse` refuses is rejected without
   * calling the handler. After a nack under `RETRY_ORDER_BLOCK_KEY`, the
   * later records of the same key waiting for their slot are parked until
   * the retry comes back (when it is due within a second) or handed back
   * unprocessed to come again after it (see `blocked-keys.ts`).
   *
   * Resolves after `close()` once the running handlers have finished (at
   * once on a closed consumer); rejects with the error that ended the
   * consumer.
   *
   * @throws FailedPreconditionError when `run()` is already running.
   * @throws RangeError when `concurrency` is not a whole number >= 1.
   */
  async run(handler: MessageHandler<T>, options: RunOptions = {}): Promise<void> {
    if (this.scheduler) throw new FailedPreconditionError('run() is already running');
    const scheduler = new SlotScheduler<Message>({
      slots: options.concurrency ?? this.concurrency,
      run: (message) => this.handle(message, handler),
    });
    this.scheduler = scheduler;
    try {
      if (!(await this.connected())) return;
      for (;;) {
        const next = await this.nextDelivered();
        if (next.done) break;
        scheduler.submit(next.value);
      }
    } finally {
      await scheduler.idle();
      this.scheduler = undefined;
    }
  }

  /**
   * Stops gracefully: no more credit is granted, the loop or `run()` ends,
   * records still queued are left to the broker to deliver again, records in
   * the application's hands get `timeoutMs` to be settled (running handlers
   * finish), pending acks are sent and the streams end. Calling it again
   * returns the same promise.
   */
  close(options: ConsumerCloseOptions = {}): Promise<void> {
    return this.shutDown(undefined, options.timeoutMs ?? consumerDefaults.closeTimeoutMs);
  }

  /** The next message for the loop: parsed, admitted by the rate limit, in key order. */
  private async nextMessage(): Promise<IteratorResult<Message<T>>> {
    for (;;) {
      const next = await this.nextDelivered();
      if (next.done) return next;
      const ready = await this.prepare(next.value);
      if (ready) return { done: false, value: ready };
    }
  }

  /**
   * The next delivered message from the queue, as it arrived. Once
   * connected it is the queue's own promise, without two async frames per
   * message: the queue ends (`done`) on close and rejects with the failure
   * that ended the consumer, as `connected()` would.
   */
  private nextDelivered(): Promise<IteratorResult<Message>> {
    if (this.isConnected && !this.closing) return this.queue.next();
    return this.connectedThenNext();
  }

  private async connectedThenNext(): Promise<IteratorResult<Message>> {
    if (!(await this.connected())) return { done: true, value: undefined };
    return this.queue.next();
  }

  /**
   * Readies a message for the application, or settles it here and returns
   * undefined: a copy its stream no longer holds is dropped (it comes
   * again), one behind a failed record of its key is handed back, one whose
   * value does not parse is rejected; then it waits for a `rateLimit`
   * token (on close it is left to the broker).
   */
  private prepare(message: Message): Message<T> | undefined | Promise<Message<T> | undefined> {
    if (!this.mayProcess(message)) return undefined;
    let data: T;
    try {
      data = this.parse(message.value, message);
    } catch (error) {
      rejectUnparsable(message, error);
      this.logger.warn({ partition: message.partition, offset: message.offset, attempt: message.attempt, err: error }, 'payload did not parse; record rejected');
      return undefined;
    }
    // Only a rate limit makes a message wait: without one it is readied in this turn, without a promise.
    return this.rateLimit ? this.afterRateLimit(this.rateLimit, message, data) : this.ready(message, data);
  }

  private async afterRateLimit(rateLimit: TokenBucket, message: Message, data: T): Promise<Message<T> | undefined> {
    const { signal } = this.shutdownSignal;
    try {
      await rateLimit.take(1, signal);
    } catch (error) {
      // Closing: the message is left to the broker like the queued ones.
      if (!signal.aborted) throw error;
      settlerOf(message)?.abandon(message);
      return undefined;
    }
    // The wait may have outlasted the stream, the lease or the key's turn.
    if (!this.mayProcess(message)) return undefined;
    return this.ready(message, data);
  }

  /** Marks a message as being processed (tracing, metrics) and attaches its parsed value. */
  private ready(message: Message, data: T): Message<T> {
    startProcessing(message, this.subscription);
    if (this.metrics.enabled) {
      const { topic } = message;
      const receivedAt = performance.now();
      this.metrics.consumed(topic, this.subscription);
      watchSettle(message, (disposition) => {
        this.metrics.processed(topic, this.subscription, (performance.now() - receivedAt) / 1000, disposition === 'ack' ? undefined : disposition);
      });
    }
    return withData(message, data);
  }

  /**
   * Whether a message may go to the application now; otherwise it is taken
   * care of: abandoned when its stream no longer holds it (the broker
   * delivers it again, running it now would only duplicate), handed back
   * when it is behind a failed record of its key.
   */
  private mayProcess(message: AnyMessage): boolean {
    const stream = settlerOf(message);
    if (!stream?.holds(message)) {
      stream?.abandon(message);
      return false;
    }
    const admission = this.blocked.admit(message);
    if (admission === 'release') this.handBack([message, ...this.blocked.takeReleased()]);
    else if (admission === 'park') this.sweepParked();
    else this.queueUnparked();
    return admission === 'go';
  }

  /**
   * A nacked record will be retried with its key held back
   * (`RETRY_ORDER_BLOCK_KEY`): the later records of its key and partition
   * waiting here, not yet given to the application, are parked until the
   * retry comes back (for up to `parkForMs`) or handed back, so they do not
   * overtake the retry; records of the key arriving later likewise (see
   * `BlockedKeys`).
   */
  private holdBackKey(failed: AnyMessage, parkForMs: number | undefined): void {
    if (!this.blocked.block(failed, parkForMs)) return;
    const released: AnyMessage[] = [];
    const behind = (message: AnyMessage): boolean => {
      if (!sameKey(message, failed)) return false;
      const admission = this.blocked.admit(message);
      if (admission === 'release') released.push(message);
      return admission !== 'go';
    };
    this.queue.remove(behind);
    if (failed.key) this.scheduler?.removeOfKey(failed.key, behind);
    this.handBack([...released, ...this.blocked.takeReleased()]);
    if (this.blocked.parked > 0) this.sweepParked();
  }

  /** Queues the records parked behind retries that came back (they follow them, in offset order). */
  private queueUnparked(): void {
    const unparked = this.blocked.takeUnparked();
    if (unparked.length > 0) this.queue.push(unparked as Message[]);
  }

  /**
   * While records are parked, hands back those whose retry is late (it
   * went to another member, or their stream broke): checked four times a
   * second, so a late retry costs its records at most that much more.
   */
  private sweepParked(): void {
    if (this.sweepingParked) return;
    this.sweepingParked = true;
    void (async () => {
      try {
        while (this.blocked.parked > 0 && !this.closing) {
          await this.clock.sleep(250, this.shutdownSignal.signal);
          this.blocked.expire();
          this.handBack(this.blocked.takeReleased());
        }
      } catch {
        // Closing: `finish` abandons what is parked.
      } finally {
        this.sweepingParked = false;
      }
    })();
  }

  /** Hands messages back unprocessed (a nack with `release`: no attempt counted). */
  private handBack(messages: readonly AnyMessage[]): void {
    if (messages.length === 0) return;
    for (const message of messages) releaseUnprocessed(message);
    this.logger.debug(
      { records: messages.map((m) => `${m.partition}:${m.offset}`) },
      'records behind a failed record of their key handed back; they come again after its retry',
    );
  }

  /**
   * Connects; false when the consumer was closed (before or while
   * connecting). Throws the error that ended the consumer.
   */
  private async connected(): Promise<boolean> {
    try {
      await this.connect();
      this.isConnected = true;
      return true;
    } catch (error) {
      if (this.failure) throw this.failure;
      if (this.closing) return false;
      throw error;
    }
  }

  private async start(): Promise<void> {
    this.state = 'running';
    let route: TopicRoute;
    try {
      route = await retry(() => this.loadRoute(), {
        ...this.reconnect,
        clock: this.clock,
        random: this.random,
        signal: this.shutdownSignal.signal,
        isRetriable: (error) => fromGrpcError(error).retriable,
        onRetry: ({ attempt, delay, error }) => {
          this.logger.debug({ attempt, delayMs: Math.round(delay), err: error }, 'metadata fetch failed; retrying');
        },
      });
    } catch (error) {
      const cause = error instanceof RetryExhaustedError ? error.cause : error;
      const failure = this.failure ?? fromGrpcError(cause);
      await this.shutDown(failure, 0);
      throw failure;
    }
    const addresses = leaderAddresses(route);
    const n = addresses.size;
    this.perStream = {
      records: Math.max(1, Math.ceil(this.prefetchRecords / n)),
      bytes: Number.isFinite(this.prefetchBytes) ? Math.max(1, Math.ceil(this.prefetchBytes / n)) : this.prefetchBytes,
    };
    for (const address of addresses) this.addStream(address);
    await Promise.all([...this.streams.values()].map((stream) => stream.whenOpened()));
  }

  private async loadRoute(): Promise<TopicRoute> {
    const response = await this.admin.getMetadata([this.topic]);
    return topicRoute({ response, address: this.brokers[0] ?? '' }, this.topic, this.clock.now());
  }

  private addStream(address: string): void {
    const perStream = this.perStream ?? { records: this.prefetchRecords, bytes: this.prefetchBytes };
    const stream = new SubscribeStream({
      address,
      pool: this.pool,
      open: {
        topic: this.topic,
        subscription: this.subscription,
        memberId: this.memberId,
        createIfMissing: this.createIfMissing,
        config: this.settings ? subscriptionConfig(this.settings) : undefined,
      },
      // Threshold 1: each settled record's credit comes back; the stream's CreditBatcher batches the requests.
      grantor: new CreditGrantor({ prefetchRecords: perStream.records, prefetchBytes: perStream.bytes, topUpThreshold: 1 }),
      creditLingerMs: consumerDefaults.creditLingerMs,
      ackBatchSize: this.ackBatchSize,
      ackFlushMs: this.ackFlushMs,
      maxLeaseExtensionMs: this.maxLeaseExtensionMs,
      leaseExtensionAt: consumerDefaults.leaseExtensionAt,
      defaultLeaseMs: consumerDefaults.leaseMs,
      reconnect: this.reconnect,
      clock: this.clock,
      random: this.random,
      logger: this.logger,
      host: this.host,
    });
    this.streams.set(address, stream);
    stream.start();
  }

  /**
   * Before a stream reconnects: refreshes the topic's leaders (best effort),
   * opens streams to new leaders, and tells the stream whether its broker
   * still leads anything.
   */
  private async refreshRoutes(stream: SubscribeStream): Promise<boolean> {
    let addresses: Set<string>;
    try {
      addresses = leaderAddresses(await this.loadRoute());
    } catch (error) {
      this.logger.debug({ broker: stream.address, err: error }, 'metadata refresh before reconnect failed; reconnecting to the same broker');
      return true;
    }
    if (this.state !== 'running') return false;
    for (const address of addresses) if (!this.streams.has(address)) this.addStream(address);
    const stillLeads = addresses.has(stream.address);
    // A retired stream's records are stale already: settling them only releases credit locally.
    if (!stillLeads) this.streams.delete(stream.address);
    return stillLeads;
  }

  private onDeliver(messages: Message[]): void {
    if (this.queue.isEnded) {
      // Closing: nobody will take them; the broker delivers them again.
      for (const message of messages) settlerOf(message)?.abandon(message);
      return;
    }
    if (this.blocked.size === 0) {
      this.queue.push(messages);
      return;
    }
    // Records of a key behind a failed record, sent before the broker learnt
    // of the failure, are parked or handed back; a retry that came back is
    // followed by what was parked behind it.
    const admitted: Message[] = [];
    const released: Message[] = [];
    let parked = false;
    for (const message of messages) {
      const admission = this.blocked.admit(message);
      if (admission === 'go') {
        admitted.push(message);
        for (const follower of this.blocked.takeUnparked()) admitted.push(follower as Message);
      } else if (admission === 'release') {
        released.push(message);
      } else {
        parked = true;
      }
    }
    this.handBack([...released, ...this.blocked.takeReleased()]);
    if (parked) this.sweepParked();
    this.queue.push(admitted);
  }

  /** Drops queued messages of `stream` that it no longer holds, releasing their credit. */
  private discardStale(stream: SubscribeStream): void {
    const stale = (message: Message): boolean => settlerOf(message) === stream && !stream.holds(message);
    const dropped = [...this.queue.remove(stale), ...(this.scheduler?.remove(stale) ?? []), ...(this.blocked.removeParked(stale as (m: AnyMessage) => boolean) as Message[])];
    for (const message of dropped) stream.abandon(message);
  }

  /** Runs the handler for one message and settles it (see `run()`); never rejects. */
  private async handle(message: Message, handler: MessageHandler<T>): Promise<void> {
    let ready: Message<T> | undefined;
    try {
      const prepared = this.prepare(message);
      ready = prepared instanceof Promise ? await prepared : prepared;
    } catch (error) {
      // Only a failing clock gets here; the record comes again when its lease ends.
      this.logger.error({ partition: message.partition, offset: message.offset, err: error }, 'could not start a handler; record left to the broker');
      settlerOf(message)?.abandon(message);
      return;
    }
    if (!ready) return;
    const traced = processingContext(ready);
    try {
      // With tracing, the handler runs in its `process` span's context, so its own spans nest under it.
      await (traced ? context.with(traced, () => handler(ready)) : handler(ready));
    } catch (error) {
      const fields = { partition: ready.partition, offset: ready.offset, attempt: ready.attempt, err: error };
      const settled = settleFailure(ready, error);
      if (settled === 'reject') this.logger.warn(fields, 'handler threw PoisonMessageError; record rejected');
      else this.logger.debug(fields, settled === 'nack' ? 'handler failed; record nacked' : 'handler failed after settling its record');
      return;
    }
    settleSuccess(ready);
  }

  /** Starts shutting down (once; later calls, failures included, join it). */
  private shutDown(error: BraidError | undefined, timeoutMs: number): Promise<void> {
    if (!this.closing) {
      this.state = 'closing';
      this.failure = error;
      this.closing = this.finish(error, timeoutMs);
    }
    return this.closing;
  }

  private async finish(error: BraidError | undefined, timeoutMs: number): Promise<void> {
    this.shutdownSignal.abort(error ?? new FailedPreconditionError('consumer is closed'));
    const streams = [...this.streams.values()];
    for (const stream of streams) stream.stopCredit();
    const left = error ? this.queue.fail(error) : this.queue.close();
    for (const message of [...left, ...(this.scheduler?.cancelQueued() ?? []), ...this.blocked.clear()]) settlerOf(message)?.abandon(message);
    if (error) {
      for (const stream of streams) stream.abort();
      this.logger.error({ err: error }, 'consumer failed');
    } else {
      const settled = Promise.all(streams.map((stream) => stream.whenSettled()));
      if (await timedOut(settled, this.clock, timeoutMs)) {
        const unsettled = streams.reduce((sum, stream) => sum + stream.heldCount, 0);
        this.logger.warn({ unsettled, timeoutMs }, 'closing with records not settled; the broker delivers them again');
      }
      await Promise.all(streams.map((stream) => stream.end(streamEndTimeoutMs)));
    }
    this.admin.close();
    this.pool.close();
    this.state = 'closed';
  }
}

/** How long `close()` waits for a broker to end a half-closed stream, in ms. */
const streamEndTimeoutMs = 5_000;

function leaderAddresses(route: TopicRoute): Set<string> {
  return new Set(route.leaders.map((leader) => leader.address));
}

/** Whether two records share a key and a partition (keyless records share nothing). */
function sameKey(a: AnyMessage, b: AnyMessage): boolean {
  return a.partition === b.partition && a.key !== undefined && b.key !== undefined && bytesEqual(a.key, b.key);
}

/** Byte equality; for the short keys of records a loop beats `Buffer.equals`, whose native call costs more than the compare. */
function bytesEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  if (a.length > 64) return a.equals(b);
  // From the end: keys often share a prefix ("user-0001", "user-0002").
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

function payloadParser<T>(parse: PayloadParser<T> | undefined): PayloadParser<T> {
  if (parse === undefined) {
    // Without a parser T is Buffer (`ParseRequirement`): the data is the value.
    return (value) => value as T;
  }
  if (typeof parse !== 'function') {
    throw new InvalidArgumentError(`consumer option "parse" must be a function, got ${typeof parse}`);
  }
  return parse;
}

function rateLimiter(option: RateLimitOptions | undefined, clock: Clock): TokenBucket | undefined {
  if (option === undefined) return undefined;
  // Checked as JavaScript callers may pass anything.
  const value: unknown = option;
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(`consumer option "rateLimit" must be an object { recordsPerSecond, burst? }, got ${String(value)}`);
  }
  const { recordsPerSecond, burst } = option;
  if (typeof recordsPerSecond !== 'number' || !Number.isFinite(recordsPerSecond) || recordsPerSecond <= 0) {
    throw new InvalidArgumentError(`consumer option "rateLimit.recordsPerSecond" must be a finite number > 0, got ${String(recordsPerSecond)}`);
  }
  if (burst !== undefined && (typeof burst !== 'number' || !Number.isSafeInteger(burst) || burst < 1)) {
    throw new InvalidArgumentError(`consumer option "rateLimit.burst" must be a whole number >= 1, got ${String(burst)}`);
  }
  // Without a burst: the bucket's default, one second's worth and at least 1 (`tokenBucketDefaults`).
  return new TokenBucket({ rate: recordsPerSecond, burst, clock });
}

function wholeAtLeast(option: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`consumer option "${option}" must be a whole number >= ${min}, got ${String(value)}`);
  }
  return value;
}
