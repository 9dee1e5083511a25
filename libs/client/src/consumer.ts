/**
 * `Consumer`: receives the records of one subscription as a member of it.
 * Wiring of the consume path — topic metadata to find the partition
 * leaders, one `SubscribeStream` per leader (credit, batched acks, lease
 * extension, reconnect), one queue feeding `for await` or `run()`'s
 * key-ordered handlers — plus a graceful `close()`.
 */
import { randomUUID } from 'node:crypto';
import { RetryExhaustedError, resolveBackoffPolicy, retry } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import {
  FailedPreconditionError,
  assertValidName,
  fromGrpcError,
  silentLogger,
  systemClock,
  systemRandom,
} from '@braid/core';
import type { BraidError, Clock, Logger, Random } from '@braid/core';
import { CreditGrantor } from '@braid/flow';
import { Admin, brokerList, subscriptionConfig } from './admin.js';
import type { SubscriptionSettings } from './admin.js';
import { ChannelPool } from './channels.js';
import type { ConnectionOptions } from './channels.js';
import { consumerDefaults, consumerReconnectDefaults } from './defaults.js';
import { settlerOf } from './message.js';
import type { Message } from './message.js';
import { MessageQueue } from './message-queue.js';
import { topicRoute } from './metadata-cache.js';
import type { TopicRoute } from './metadata-cache.js';
import { SlotScheduler } from './slot-scheduler.js';
import { SubscribeStream } from './subscribe-stream.js';
import type { StreamHost } from './subscribe-stream.js';
import { timedOut } from './flush-timer.js';

/** Options of {@link Consumer}. Defaults live in `consumerDefaults`. */
export interface ConsumerOptions extends ConnectionOptions {
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

/** A handler for {@link Consumer.run}: return to ack, throw to nack. */
export type MessageHandler = (message: Message) => Promise<void> | void;

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
 */
export class Consumer implements AsyncIterable<Message> {
  /** This member's id. */
  readonly memberId: string;
  /** Topic consumed. */
  readonly topic: string;
  /** Subscription consumed. */
  readonly subscription: string;

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
  private readonly streams = new Map<string, SubscribeStream>();
  private readonly queue = new MessageQueue<Message>(() => {
    // The application waits for records: credit gathered for a batch goes out now.
    for (const stream of this.streams.values()) stream.flushCredit();
  });
  private readonly shutdownSignal = new AbortController();
  private readonly host: StreamHost;
  private state: State = 'idle';
  private failure: BraidError | undefined;
  private connecting: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private scheduler: SlotScheduler<Message> | undefined;
  private perStream: { records: number; bytes: number } | undefined;

  /** @throws InvalidArgumentError for no broker or a bad topic or subscription name; RangeError for an invalid option. */
  constructor(options: ConsumerOptions) {
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
    this.prefetchBytes = options.prefetchBytes ?? consumerDefaults.prefetchBytes;
    if (this.prefetchBytes !== Number.POSITIVE_INFINITY) wholeAtLeast('prefetchBytes', this.prefetchBytes, 1);
    this.ackBatchSize = wholeAtLeast('ackBatchSize', options.ackBatchSize ?? consumerDefaults.ackBatchSize, 1);
    this.ackFlushMs = wholeAtLeast('ackFlushMs', options.ackFlushMs ?? consumerDefaults.ackFlushMs, 0);
    this.maxLeaseExtensionMs = options.maxLeaseExtensionMs ?? consumerDefaults.maxLeaseExtensionMs;
    if (this.maxLeaseExtensionMs !== Number.POSITIVE_INFINITY) wholeAtLeast('maxLeaseExtensionMs', this.maxLeaseExtensionMs, 0);
    this.concurrency = wholeAtLeast('concurrency', options.concurrency ?? consumerDefaults.concurrency, 1);
    this.reconnect = { ...consumerReconnectDefaults, ...options.reconnect };
    resolveBackoffPolicy(this.reconnect);
    this.pool = new ChannelPool(options);
    this.admin = new Admin({ brokers: this.brokers, pool: this.pool, timeoutMs: options.metadataTimeoutMs });
    this.host = {
      deliver: (_stream, messages) => { this.onDeliver(messages); },
      discard: (stream) => { this.discardStale(stream); },
      beforeReconnect: (stream) => this.refreshRoutes(stream),
      fail: (_stream, error) => { void this.shutDown(error, 0); },
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
  [Symbol.asyncIterator](): AsyncIterator<Message> {
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
   * records are spread round-robin. A handler that returns acks its message
   * (unless it settled it itself); one that throws nacks it with the error's
   * message and class. Resolves after `close()` once the running handlers
   * have finished (at once on a closed consumer); rejects with the error
   * that ended the consumer.
   *
   * @throws FailedPreconditionError when `run()` is already running.
   * @throws RangeError when `concurrency` is not a whole number >= 1.
   */
  async run(handler: MessageHandler, options: RunOptions = {}): Promise<void> {
    if (this.scheduler) throw new FailedPreconditionError('run() is already running');
    const scheduler = new SlotScheduler<Message>({
      slots: options.concurrency ?? this.concurrency,
      run: (message) => this.handle(message, handler),
    });
    this.scheduler = scheduler;
    try {
      if (!(await this.connected())) return;
      for (;;) {
        const next = await this.nextMessage();
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

  private async nextMessage(): Promise<IteratorResult<Message>> {
    if (!(await this.connected())) return { done: true, value: undefined };
    return this.queue.next();
  }

  /**
   * Connects; false when the consumer was closed (before or while
   * connecting). Throws the error that ended the consumer.
   */
  private async connected(): Promise<boolean> {
    try {
      await this.connect();
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
    this.queue.push(messages);
  }

  /** Drops queued messages of `stream` that it no longer holds, releasing their credit. */
  private discardStale(stream: SubscribeStream): void {
    const stale = (message: Message): boolean => settlerOf(message) === stream && !stream.holds(message);
    const dropped = [...this.queue.remove(stale), ...(this.scheduler?.remove(stale) ?? [])];
    for (const message of dropped) stream.abandon(message);
  }

  private async handle(message: Message, handler: MessageHandler): Promise<void> {
    const stream = settlerOf(message);
    if (!stream?.holds(message)) {
      // Its stream broke or its lease expired while it waited: the broker
      // delivers it again, so running the handler now would only duplicate.
      stream?.abandon(message);
      return;
    }
    try {
      await handler(message);
      if (message.disposition === undefined) message.ack();
    } catch (error) {
      if (message.disposition === undefined) {
        const reason = error instanceof Error ? error.message : String(error);
        const errorClass = error instanceof Error ? error.name : typeof error;
        message.nack({ reason, errorClass });
      }
      this.logger.debug({ partition: message.partition, offset: message.offset, attempt: message.attempt, err: error }, 'handler failed; record nacked');
    }
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
    for (const message of [...left, ...(this.scheduler?.cancelQueued() ?? [])]) settlerOf(message)?.abandon(message);
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

function wholeAtLeast(option: string, value: number, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`consumer option "${option}" must be a whole number >= ${min}, got ${String(value)}`);
  }
  return value;
}
