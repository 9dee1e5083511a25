/**
 * `Producer`: publishes records to Braid topics. Wiring of the publish
 * path — admission into a bounded buffer (backpressure), routing by topic
 * metadata, batching per partition, pipelined idempotent sending with
 * retries — plus `flush()` and `close()`.
 */
import { randomUUID } from 'node:crypto';
import { RetryExhaustedError, resolveBackoffPolicy, retry } from '@braid/backoff';
import type { BackoffPolicy } from '@braid/backoff';
import {
  CancelledError,
  FailedPreconditionError,
  PartitionOutOfRangeError,
  RecordTooLargeError,
  assertValidName,
  fromGrpcError,
  silentLogger,
  systemClock,
  systemRandom,
} from '@braid/core';
import type { BraidError, Clock, Logger, Random } from '@braid/core';
import { InFlightLimiter } from '@braid/flow';
import { attr, clientMetrics, endWithError, injectTraceContext, messageId, startSendSpan, tracingEnabled } from '@braid/telemetry';
import { TraceFlags, context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import { RoundRobin, partitionForKey } from '@braid/partitioning';
import { Admin, brokerList } from './admin.js';
import { ChannelPool } from './channels.js';
import type { ConnectionOptions } from './channels.js';
import { producerDefaults, producerRetryDefaults } from './defaults.js';
import { MetadataCache } from './metadata-cache.js';
import type { PartitionRoute, TopicRoute } from './metadata-cache.js';
import { PartitionSender } from './partition-sender.js';
import { PublishStream } from './publish-stream.js';
import { RecordAccumulator } from './record-accumulator.js';
import { headersSize, normalizeRecord, withHeaders } from './records.js';
import type { NormalizedRecord, ProducerRecord, RecordMetadata } from './records.js';
import { SendCompletion } from './send-completion.js';
import { OutstandingSends } from './outstanding-sends.js';
import { timedOut } from './flush-timer.js';

/** Options of {@link Producer}. Defaults live in `producerDefaults`. */
export interface ProducerOptions extends ConnectionOptions {
  /** Bootstrap broker `host:port` (or several, or a comma-separated list); metadata names the partition leaders. */
  brokers: string | readonly string[];
  /** How long a batch waits for more records before it is sent, in ms (default 5; 0 sends at the end of the current tick). */
  lingerMs?: number;
  /** Most records per batch (default 1000). */
  maxBatchRecords?: number;
  /** Most record bytes per batch (default 1 MiB); a larger single record travels alone. */
  maxBatchBytes?: number;
  /** Record bytes buffered or in flight before new records wait for room (default 64 MiB). */
  maxInFlightBytes?: number;
  /**
   * Batches per partition sent and not yet acknowledged (default 5; at most
   * 5 with idempotence, as brokers remember the last five batches of a
   * producer for deduplication).
   */
  maxInFlightRequestsPerPartition?: number;
  /**
   * Producer id and per-partition sequence numbers, so that retries never
   * duplicate records and order holds across retries (default true). Without
   * it, a retried batch may be appended twice, and with more than one batch
   * in flight per partition it may land after later batches.
   */
  idempotent?: boolean;
  /**
   * Deliver every record of this producer to this one subscription of its
   * topic; the topic's other subscriptions skip them. For redriving dead
   * letters to the subscription that failed them (dlq-admin does); leave
   * unset to publish to every subscription.
   */
  targetSubscription?: string;
  /** Delays between attempts (default: 100 ms doubling to 5 s, full jitter, no attempt limit). */
  retry?: BackoffPolicy;
  /** Give up on a record this long after it was batched, in ms (default 120000). */
  deliveryTimeoutMs?: number;
  /** A batch not answered within this long counts as failed and is retried, in ms (default 30000). */
  requestTimeoutMs?: number;
  /** Refresh a topic's metadata in the background once it is this old, in ms (default 300000). */
  metadataMaxAgeMs?: number;
  /** Time source (default the system clock). */
  clock?: Clock;
  /** Randomness for jitter and the round-robin start (default `Math.random`). */
  random?: Random;
  /** Logger (default silent). */
  logger?: Logger;
}

/** Options of {@link Producer.close}. */
export interface CloseOptions {
  /**
   * How long to wait for outstanding records, in ms (default: until every
   * record is acknowledged or has failed, which `deliveryTimeoutMs` bounds).
   * Records still outstanding then fail with CANCELLED.
   */
  timeoutMs?: number;
}

interface Waiting {
  readonly record: NormalizedRecord;
  readonly completion: SendCompletion;
  readonly index: number;
}

interface Admission extends Waiting {
  readonly topic: TopicState;
}

interface TopicState {
  readonly name: string;
  readonly accumulator: RecordAccumulator;
  readonly senders: (PartitionSender | undefined)[];
  readonly roundRobin: RoundRobin;
  /** Records waiting for the topic's first metadata, in order. */
  waiting: Waiting[] | undefined;
}

/**
 * Publishes records. Records are batched per partition, sent pipelined over
 * one stream per broker, and retried on retriable errors without duplicates
 * (idempotence is on by default):
 *
 * ```ts
 * const producer = new Producer({ brokers: 'localhost:7401' });
 * const { partition, offset } = await producer.send('orders', { key: 'user-1', value: JSON.stringify(order) });
 * await producer.close();
 * ```
 *
 * `send()` resolves once the broker acknowledged the record (it is durable
 * at the topic's durability point). The buffer is bounded by
 * `maxInFlightBytes`: when it is full, new records wait (in call order)
 * until acknowledgements make room. A caller that sends many records
 * without awaiting each one applies that backpressure with `ready()`:
 *
 * ```ts
 * for await (const line of lines) {
 *   producer.send('events', { value: line }).catch(onError);
 *   await producer.ready();
 * }
 * await producer.flush();
 * ```
 *
 * Errors are `BraidError`s: terminal ones (INVALID_ARGUMENT, NOT_FOUND, ...)
 * reject at once; retriable ones (UNAVAILABLE, RESOURCE_EXHAUSTED honouring
 * the broker's retry-after, NOT_LEADER, ...) are retried until
 * `deliveryTimeoutMs`, then reject with the last error.
 */
export class Producer {
  /** The producer id sent with idempotent batches. */
  readonly producerId: string;

  private readonly brokers: string[];
  private readonly pool: ChannelPool;
  private readonly admin: Admin;
  private readonly cache: MetadataCache;
  private readonly limiter: InFlightLimiter;
  private readonly topics = new Map<string, TopicState>();
  private readonly streams = new Map<string, PublishStream>();
  private readonly outstanding = new OutstandingSends();
  private readonly backlog: Admission[] = [];
  private readyWaiters: (() => void)[] = [];
  private draining = false;
  private urgent = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly shutdown = new AbortController();

  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly lingerMs: number;
  private readonly maxBatchRecords: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlightRequestsPerPartition: number;
  private readonly idempotent: boolean;
  private readonly targetSubscription: string;
  private readonly metrics = clientMetrics();
  private readonly retry: BackoffPolicy;
  private readonly deliveryTimeoutMs: number;
  private readonly requestTimeoutMs: number;

  /** @throws InvalidArgumentError when no broker is given; RangeError for an invalid option. */
  constructor(options: ProducerOptions) {
    this.brokers = brokerList(options.brokers);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? systemRandom;
    this.producerId = randomUUID();
    this.logger = (options.logger ?? silentLogger).child({ component: 'producer', producerId: this.producerId });
    this.lingerMs = atLeast('lingerMs', options.lingerMs ?? producerDefaults.lingerMs, 0);
    this.maxBatchRecords = atLeast('maxBatchRecords', options.maxBatchRecords ?? producerDefaults.maxBatchRecords, 1);
    this.maxBatchBytes = atLeast('maxBatchBytes', options.maxBatchBytes ?? producerDefaults.maxBatchBytes, 1);
    this.maxInFlightRequestsPerPartition = atLeast(
      'maxInFlightRequestsPerPartition',
      options.maxInFlightRequestsPerPartition ?? producerDefaults.maxInFlightRequestsPerPartition,
      1,
    );
    this.idempotent = options.idempotent ?? producerDefaults.idempotent;
    this.targetSubscription = options.targetSubscription ?? '';
    if (this.idempotent && this.maxInFlightRequestsPerPartition > maxInFlightWithIdempotence) {
      // The broker remembers a producer's last five batches per partition;
      // a retry of an older one could not be recognised as a duplicate.
      throw new RangeError(
        `producer option "maxInFlightRequestsPerPartition" must be at most ${maxInFlightWithIdempotence} with idempotence, got ${this.maxInFlightRequestsPerPartition}`,
      );
    }
    this.retry = { ...producerRetryDefaults, ...options.retry };
    resolveBackoffPolicy(this.retry);
    this.deliveryTimeoutMs = atLeast('deliveryTimeoutMs', options.deliveryTimeoutMs ?? producerDefaults.deliveryTimeoutMs, 0);
    this.requestTimeoutMs = atLeast('requestTimeoutMs', options.requestTimeoutMs ?? producerDefaults.requestTimeoutMs, 1);
    this.limiter = new InFlightLimiter({
      maxCount: Number.POSITIVE_INFINITY,
      maxBytes: options.maxInFlightBytes ?? producerDefaults.maxInFlightBytes,
    });
    this.pool = new ChannelPool(options);
    // A metadata call never outlives the records waiting for it.
    const metadataTimeoutMs = Math.max(1, Math.min(this.requestTimeoutMs, this.deliveryTimeoutMs));
    this.admin = new Admin({ brokers: this.brokers, pool: this.pool, timeoutMs: metadataTimeoutMs });
    const bootstrap = this.brokers[0] ?? '';
    this.cache = new MetadataCache({
      fetch: async (topics) => ({ response: await this.admin.getMetadata(topics), address: bootstrap }),
      clock: this.clock,
      maxAgeMs: options.metadataMaxAgeMs ?? producerDefaults.metadataMaxAgeMs,
      logger: this.logger,
    });
  }

  /**
   * Publishes one record; resolves with its partition and offset once the
   * broker acknowledged it.
   */
  send(topic: string, record: ProducerRecord): Promise<RecordMetadata>;
  /**
   * Publishes records in order; resolves with each one's partition and
   * offset (in the same order) once all were acknowledged, or rejects with
   * the first failure (records of other batches may still be appended).
   */
  send(topic: string, records: readonly ProducerRecord[]): Promise<RecordMetadata[]>;
  send(topic: string, input: ProducerRecord | readonly ProducerRecord[]): Promise<RecordMetadata | RecordMetadata[]> {
    if (this.closed) return Promise.reject(new FailedPreconditionError('producer is closed'));
    let state: TopicState;
    let single: NormalizedRecord | undefined;
    let records: NormalizedRecord[] | undefined;
    try {
      state = this.topics.get(topic) ?? this.createTopic(topic);
      // One record is the common case: no arrays on its path.
      if (isRecordArray(input)) records = input.map((r, i) => normalizeRecord(r, i));
      else single = normalizeRecord(input);
    } catch (error) {
      return Promise.reject(fromGrpcError(error));
    }
    if (records?.length === 0) return Promise.resolve([]);
    // Tracing (only with an OpenTelemetry SDK registered): one `send` span
    // per call, its context in every record's headers when there is a
    // trace to continue (see `traceToPropagate`).
    let span: Span | undefined;
    if (tracingEnabled()) {
      const active = context.active();
      span = startSendSpan({ topic, partition: single?.explicitPartition }, active);
      if (traceToPropagate(span, active)) {
        if (records) span.setAttribute(attr.batchCount, records.length);
        const traceHeaders: Record<string, string> = {};
        injectTraceContext(traceHeaders, trace.setSpan(active, span));
        const traceHeadersSize = headersSize(traceHeaders);
        if (single) single = withHeaders(single, traceHeaders, traceHeadersSize);
        else if (records) records = records.map((r) => withHeaders(r, traceHeaders, traceHeadersSize));
      }
      // A span that records nothing needs no end and no result attributes.
      if (!span.isRecording()) span = undefined;
    }
    return new Promise<RecordMetadata | RecordMetadata[]>((resolve, reject) => {
      const traced = span;
      const { metrics } = this;
      const count = records?.length ?? 1;
      const done =
        traced || metrics.enabled
          ? {
              resolve: (result: RecordMetadata | RecordMetadata[]) => {
                if (traced && !Array.isArray(result)) {
                  traced.setAttribute(attr.partition, String(result.partition));
                  traced.setAttribute(attr.messageId, messageId(result.partition, result.offset));
                }
                traced?.end();
                metrics.sent(topic, count);
                resolve(result);
              },
              reject: (error: BraidError) => {
                if (traced) endWithError(traced, error);
                metrics.sent(topic, count, error.reason);
                reject(error);
              },
            }
          : { resolve, reject };
      const completion = new SendCompletion(records?.length ?? 1, single !== undefined, done.resolve, done.reject, this.outstanding);
      this.outstanding.add(completion);
      if (single) this.admit(state, single, completion, 0);
      else if (records) for (let i = 0; i < records.length; i++) this.admit(state, records[i] as NormalizedRecord, completion, i);
    });
  }

  /**
   * Resolves once every record handed to `send()` so far has been admitted
   * into the buffer (at once when none is waiting for room). Await it
   * between sends you do not await, so that a full buffer holds you back.
   */
  ready(): Promise<void> {
    if (this.backlog.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Sends every buffered batch without waiting for `lingerMs` and resolves
   * once every record sent before the call has been acknowledged or has
   * failed (their own promises say which). Never rejects.
   */
  async flush(): Promise<void> {
    if (this.outstanding.size === 0) return;
    this.urgent += 1;
    try {
      for (const state of this.topics.values()) state.accumulator.sealAll();
      await this.outstanding.whenDone();
    } finally {
      this.urgent -= 1;
    }
  }

  /**
   * Stops accepting records (later `send()` calls reject with
   * FAILED_PRECONDITION), flushes, and closes the connections. With
   * `timeoutMs`, records still outstanding after it fail with CANCELLED.
   * Calling it again returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.closing ??= this.shutDown(options.timeoutMs ?? Number.POSITIVE_INFINITY);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.closed = true;
    const flushed = this.flush();
    if (Number.isFinite(timeoutMs)) {
      if (await timedOut(flushed, this.clock, timeoutMs)) this.abortAll(new CancelledError(`producer closed with records not acknowledged after ${timeoutMs} ms`));
    }
    await flushed;
    this.shutdown.abort(new CancelledError('producer closed'));
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
    this.admin.close();
    this.pool.close();
  }

  private abortAll(error: BraidError): void {
    this.shutdown.abort(error);
    for (const state of this.topics.values()) {
      for (const waiting of state.waiting ?? []) this.failRecord(waiting, error);
      state.waiting = undefined;
      for (const batch of state.accumulator.takeAll()) batch.fail(error);
      for (const sender of state.senders) sender?.abort(error);
    }
  }

  private createTopic(name: string): TopicState {
    assertValidName('topic', name);
    const senders: (PartitionSender | undefined)[] = [];
    const state: TopicState = {
      name,
      senders,
      roundRobin: new RoundRobin(Math.floor(this.random.next() * 0x1_0000_0000)),
      waiting: undefined,
      accumulator: new RecordAccumulator({
        topic: name,
        lingerMs: this.lingerMs,
        maxBatchRecords: this.maxBatchRecords,
        maxBatchBytes: this.maxBatchBytes,
        clock: this.clock,
        release: (bytes) => { this.limiter.release(bytes); },
        onSealed: (batch) => { this.sender(state, batch.partition).enqueue(batch); },
        urgent: () => this.urgent > 0,
      }),
    };
    this.topics.set(name, state);
    return state;
  }

  /** Takes a record into the buffer now if it fits and nobody is waiting, else queues it (FIFO). */
  private admit(topic: TopicState, record: NormalizedRecord, completion: SendCompletion, index: number): void {
    if (this.backlog.length === 0 && this.limiter.tryAcquire(record.size)) {
      this.route(topic, record, completion, index);
      return;
    }
    this.backlog.push({ topic, record, completion, index });
    if (!this.draining) void this.drainBacklog();
  }

  private async drainBacklog(): Promise<void> {
    this.draining = true;
    try {
      for (let head = this.backlog[0]; head; head = this.backlog[0]) {
        if (!this.limiter.tryAcquire(head.record.size)) await this.limiter.acquire(head.record.size, this.shutdown.signal);
        this.backlog.shift();
        this.route(head.topic, head.record, head.completion, head.index);
      }
    } catch (error) {
      // Aborted by close(): nothing left in the backlog was admitted.
      const reason = fromGrpcError(error);
      for (const admission of this.backlog.splice(0)) admission.completion.fail(reason);
    } finally {
      this.draining = false;
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const waiter of waiters) waiter();
    }
  }

  /** Sends an admitted record to its partition's batch, or parks it until the topic's metadata is known. */
  private route(topic: TopicState, record: NormalizedRecord, completion: SendCompletion, index: number): void {
    const route = this.cache.get(topic.name);
    if (route === undefined || topic.waiting !== undefined) {
      if (topic.waiting === undefined) {
        topic.waiting = [];
        this.loadTopic(topic);
      }
      topic.waiting.push({ record, completion, index });
      return;
    }
    this.cache.refreshIfStale(route);
    this.append(topic, route, record, completion, index);
  }

  private loadTopic(topic: TopicState): void {
    const isRetriable = (error: unknown): boolean => fromGrpcError(error).retriable;
    retry(() => this.cache.load(topic.name), {
      ...this.retry,
      deadlineMs: this.deliveryTimeoutMs,
      isRetriable,
      clock: this.clock,
      random: this.random,
      signal: this.shutdown.signal,
      onRetry: ({ attempt, delay, error }) => {
        this.logger.debug({ topic: topic.name, attempt, delayMs: Math.round(delay), err: error }, 'metadata fetch failed; retrying');
      },
    }).then(
      (route) => {
        const waiting = topic.waiting ?? [];
        topic.waiting = undefined;
        for (const w of waiting) this.append(topic, route, w.record, w.completion, w.index);
      },
      (error: unknown) => {
        const reason = fromGrpcError(error instanceof RetryExhaustedError ? error.cause : error);
        const waiting = topic.waiting ?? [];
        topic.waiting = undefined;
        this.logger.warn({ topic: topic.name, records: waiting.length, err: reason }, 'cannot get topic metadata; failing its records');
        for (const w of waiting) this.failRecord(w, reason);
      },
    );
  }

  private append(topic: TopicState, route: TopicRoute, record: NormalizedRecord, completion: SendCompletion, index: number): void {
    if (route.maxRecordBytes > 0 && record.size > route.maxRecordBytes) {
      this.failRecord({ record, completion, index }, new RecordTooLargeError(topic.name, record.size, route.maxRecordBytes));
      return;
    }
    let partition = record.explicitPartition;
    if (partition === undefined) {
      partition = record.key ? partitionForKey(record.key, route.partitions) : topic.roundRobin.next(route.partitions);
    } else if (partition >= route.partitions) {
      this.failRecord({ record, completion, index }, new PartitionOutOfRangeError(topic.name, partition, route.partitions));
      return;
    }
    record.partition = partition;
    topic.accumulator.append(partition, record, record.size, completion, index);
  }

  private failRecord(waiting: Waiting, error: BraidError): void {
    this.limiter.release(waiting.record.size);
    waiting.completion.fail(error);
  }

  private sender(topic: TopicState, partition: number): PartitionSender {
    let sender = topic.senders[partition];
    if (!sender) {
      const fallback: PartitionRoute = { address: this.brokers[0] ?? '', leaderEpoch: 0 };
      sender = new PartitionSender({
        topic: topic.name,
        partition,
        idempotent: this.idempotent,
        targetSubscription: this.targetSubscription,
        producerId: this.producerId,
        maxInFlight: this.maxInFlightRequestsPerPartition,
        maxBatchRecords: this.maxBatchRecords,
        maxBatchBytes: this.maxBatchBytes,
        deliveryTimeoutMs: this.deliveryTimeoutMs,
        retry: this.retry,
        clock: this.clock,
        random: this.random,
        logger: this.logger,
        route: () => this.cache.get(topic.name)?.leaders[partition] ?? fallback,
        publish: (address, request, callback) => { this.stream(address).publish(request, callback); },
        onRouteError: (error) => {
          if (error.leaderAddress) this.cache.setLeader(topic.name, partition, error.leaderAddress);
          return this.cache.refresh(topic.name);
        },
      });
      topic.senders[partition] = sender;
    }
    return sender;
  }

  private stream(address: string): PublishStream {
    let stream = this.streams.get(address);
    if (!stream) {
      stream = new PublishStream({ address, pool: this.pool, requestTimeoutMs: this.requestTimeoutMs, clock: this.clock, logger: this.logger });
      this.streams.set(address, stream);
    }
    return stream;
  }
}

/** Batches per partition a broker remembers for deduplication (Kafka's limit too). */
const maxInFlightWithIdempotence = 5;

function isRecordArray(input: ProducerRecord | readonly ProducerRecord[]): input is readonly ProducerRecord[] {
  return Array.isArray(input);
}

function atLeast(option: string, value: number, min: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min) {
    throw new RangeError(`producer option "${option}" must be a number >= ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Whether a `send` span's context goes into the records' headers: when it is
 * sampled (everything downstream then records its part), or when the caller
 * is inside a trace (an active span, sampled or not), whose decision
 * downstream services must see. A `send` that started a new trace and was
 * not sampled has nothing to continue: its records carry no context, which
 * downstream treats the same as an unsampled one (Braid's broker and
 * consumer trace only sampled records) and which spares every record 70
 * bytes of header through the producer, the log and each delivery (issue 8:
 * at 1% sampling, the header on the other 99% cost a third of throughput).
 */
function traceToPropagate(span: Span, caller: Context): boolean {
  if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0) return true;
  const parent = trace.getSpanContext(caller);
  return parent !== undefined && isSpanContextValid(parent);
}
