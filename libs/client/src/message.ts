/**
 * `Message`: one delivered record as the application sees it, with the
 * settle methods on it (nats.js `JsMsg`): `ack()`, `nack()`, `reject()`
 * and `extend()`. The message only records how it was settled; what goes on
 * the wire (batched acks, credit top-ups, lease extensions) is the business
 * of the stream it came from, its {@link MessageSettler}.
 */
import { trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import { InvalidArgumentError } from '@braid/core';
import type { Delivery, StoredRecord } from '@braid/proto';
import { endFailed, extractTraceContext, messageId, sampledTraceparent, startProcessSpan, startSettleSpan, tracingEnabled } from '@braid/telemetry';

/** How a message was settled. */
export type Disposition = 'ack' | 'nack' | 'reject';

/** Options of {@link Message.nack}. */
export interface NackOptions {
  /** Retry after this long, in ms (default: the subscription's backoff policy). */
  delayMs?: number;
  /** Why processing failed (recorded in the record's attempt ledger). */
  reason?: string;
  /** Class of the error, e.g. `TimeoutError` (recorded in the ledger). */
  errorClass?: string;
}

/** Options of {@link Message.reject}. */
export interface RejectOptions {
  /** Class of the error (recorded in the ledger). */
  errorClass?: string;
}

/**
 * A settlement as the stream sends it. `release` hands a record back
 * unprocessed (a nack with `release` set: no attempt counted); only the SDK
 * sends it, for records held behind a failed record of the same key.
 */
export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nack'; readonly delayMs: number | undefined; readonly reason: string; readonly errorClass: string }
  | { readonly kind: 'reject'; readonly reason: string; readonly errorClass: string }
  | { readonly kind: 'release' };

/** A settlement by the application: what `ack()`, `nack()` and `reject()` send. */
type AppSettlement = Exclude<Settlement, { readonly kind: 'release' }>;

/**
 * What a message needs from the stream that delivered it. Internal to the
 * SDK: the consumer's `SubscribeStream` implements it.
 */
export interface MessageSettler {
  /** Settles a message (called at most once per message). */
  settle(message: AnyMessage, settlement: Settlement): void;
  /** Pushes the lease of an unsettled message to `ms` from now. */
  extend(message: AnyMessage, ms: number): void;
  /** The message's current lease deadline (Unix ms). */
  leaseDeadline(message: AnyMessage): number;
  /**
   * Whether the message is still held on a live stream: false once its
   * stream was lost or its lease expired (the broker delivers it again), or
   * once it was settled.
   */
  holds(message: AnyMessage): boolean;
  /** Releases an unsettled message's credit without settling it (the broker delivers it again). */
  abandon(message: AnyMessage): void;
}

/** A message whatever its payload type: what the SDK's internals handle. */
export type AnyMessage = Message<unknown>;

/**
 * Where a message keeps its stream: a symbol-keyed property that the
 * package does not export (a WeakMap entry per message cost a visible share
 * of a consumer's CPU in garbage collection).
 */
const settlerKey = Symbol('braid.settler');
/** Where a message keeps its payload as `parse` returned it (the value bytes until then). */
const dataKey = Symbol('braid.data');
/** Where a message keeps how it was settled. */
const settledKey = Symbol('braid.settled');
/** The `process` span of a message the application received (tracing only). */
const processKey = Symbol('braid.process');
/** Told how a message the application received was settled (metrics only). */
const settleWatchKey = Symbol('braid.settle-watch');
const deadlineKey = Symbol('braid.lease-deadline');

/** Calls `watch` once the message is settled, with the disposition (SDK-internal: process-duration metrics). */
export function watchSettle(message: AnyMessage, watch: (disposition: Disposition) => void): void {
  message[settleWatchKey] = watch;
}

/** The stream behind a message (SDK-internal; not exported from the package). */
export function settlerOf(message: AnyMessage): MessageSettler | undefined {
  return message[settlerKey];
}

/**
 * The lease deadline (Unix ms) last noted on a message: the broker's at
 * delivery, then the one it had when its stream let go of it. A stream
 * keeps the live deadline of the records it holds itself.
 * @internal
 */
export function notedLeaseDeadline(message: AnyMessage): number {
  return message[deadlineKey];
}

/** Notes a message's lease deadline (see `notedLeaseDeadline`). @internal */
export function noteLeaseDeadline(message: AnyMessage, deadlineMs: number): void {
  message[deadlineKey] = deadlineMs;
}

/**
 * Starts the message's `process <topic>` span (SDK-internal; only with an
 * OpenTelemetry SDK registered): called when the application receives the
 * message, not for prefetched ones. Returns the context to run the handler
 * in (the span active), or undefined when not tracing.
 */
export function startProcessing(message: AnyMessage, subscription: string): Context | undefined {
  // Follows the producer's sampling decision: no spans for an unsampled record.
  if (!tracingEnabled() || message[processKey] !== undefined || !sampledTraceparent(message.headers['traceparent'])) return undefined;
  const target = { topic: message.topic, partition: message.partition, messageId: messageId(message.partition, message.offset), subscription };
  const created = extractTraceContext(message.headers);
  const span = startProcessSpan(target, created, message.attempt);
  message[processKey] = { span, context: trace.setSpan(created, span), subscription };
  return message[processKey].context;
}

/** The context of the message's `process` span (SDK-internal), if tracing. */
export function processingContext(message: AnyMessage): Context | undefined {
  return message[processKey]?.context;
}

/**
 * Gives a message the payload its consumer's `parse` made of it
 * (SDK-internal). The message is the same object, now typed with its data.
 */
export function withData<T>(message: AnyMessage, data: T): Message<T> {
  message[dataKey] = data;
  // The data just stored is a T: this is the one place a message changes its payload type.
  return message as Message<T>;
}

/**
 * Hands a message back unprocessed (SDK-internal): a nack with `release`,
 * so the broker delivers it again without counting an attempt. Only for
 * messages the application never saw; the message counts as nacked, so
 * nothing settles it twice. Returns false when it was settled already.
 */
export function releaseUnprocessed(message: AnyMessage): boolean {
  if (message[settledKey] !== undefined) return false;
  message[settledKey] = 'nack';
  message[settlerKey].settle(message, { kind: 'release' });
  return true;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Bytes a delivery counts against byte credit: key + value, as the broker counts them. */
export function deliverySize(record: StoredRecord): number {
  return (record.key?.length ?? 0) + record.value.length;
}

/**
 * One delivered record. Settle it exactly once with {@link Message.ack},
 * {@link Message.nack} or {@link Message.reject}; until then its lease is
 * extended automatically (up to the consumer's `maxLeaseExtensionMs`) and
 * it counts against the consumer's prefetch.
 *
 * Settling is idempotent: the first `ack`, `nack` or `reject` wins and any
 * later settle call (or `extend` after settling) does nothing, so a handler
 * that acks and then throws does not turn the ack into a nack. Check
 * {@link Message.disposition} to see how a message was settled.
 *
 * A message whose stream broke (the broker restarted) or whose lease
 * expired is delivered again by the broker; settling the old copy then only
 * releases it locally (nothing goes to the broker, as the new stream does
 * not hold it).
 *
 * @typeParam T - type of {@link Message.data}: what the consumer's `parse`
 *   option returns, `Buffer` (the value) without one.
 */
export class Message<T = Buffer> {
  /** Topic of the record. */
  readonly topic: string;
  /** Partition of the record. */
  readonly partition: number;
  /** Offset of the record in its partition. */
  readonly offset: number;
  /** Key as published, if any. */
  readonly key: Buffer | undefined;
  /** Payload. */
  readonly value: Buffer;
  /** Application headers (trace context travels as `traceparent`/`tracestate`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Delivery attempt, 1 for the first. */
  readonly attempt: number;
  /** How often an operator redrove the record from the dead-letter topic. */
  readonly redriveCount: number;
  /** When the partition leader appended the record (Unix ms). */
  readonly publishTimeMs: number;
  /** Earliest delivery time asked for at publish (Unix ms), 0 if none. */
  readonly deliverAtMs: number;
  /** Bytes the delivery counts against byte credit (key + value). */
  readonly size: number;

  private [settledKey]: Disposition | undefined;
  private [processKey]: { span: Span; context: Context; subscription: string } | undefined;
  private [settleWatchKey]: ((disposition: Disposition) => void) | undefined;
  private readonly [settlerKey]: MessageSettler;
  private [deadlineKey]: number;
  private [dataKey]: T;

  /** @internal Built by the consumer for each delivery. */
  constructor(delivery: Delivery, record: StoredRecord, settler: MessageSettler) {
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = record.offset;
    // Decoded bytes are Buffers already (ts-proto, env=node): no copy.
    this.key = record.key === undefined ? undefined : asBuffer(record.key);
    this.value = asBuffer(record.value);
    this.headers = record.headers;
    this.attempt = delivery.attempt;
    this.redriveCount = delivery.redriveCount;
    this.publishTimeMs = record.publishTimeMs;
    this.deliverAtMs = record.deliverAtMs;
    this.size = deliverySize(record);
    this[settlerKey] = settler;
    this[deadlineKey] = delivery.leaseDeadlineMs;
    // Until the consumer's `parse` ran (or without one) the data is the value itself.
    this[dataKey] = this.value as T;
  }

  /**
   * The payload as the consumer's `parse` option made it (typed by it);
   * without `parse`, the value bytes (`data === value`). Handlers and the
   * `for await` loop only ever see messages whose payload parsed.
   */
  get data(): T {
    return this[dataKey];
  }

  /** When the partition leader appended the record. */
  get publishTime(): Date {
    return new Date(this.publishTimeMs);
  }

  /** Earliest delivery time asked for at publish (`deliverAt`/`delayMs`), if any. */
  get deliverAt(): Date | undefined {
    return this.deliverAtMs > 0 ? new Date(this.deliverAtMs) : undefined;
  }

  /** How the message was settled, or `undefined` while it is not. */
  get disposition(): Disposition | undefined {
    return this[settledKey];
  }

  /** When the lease ends and the attempt counts as failed, as last extended. */
  get leaseDeadline(): Date {
    return new Date(this.settler().leaseDeadline(this));
  }

  /**
   * Acknowledges the record: processing is done. Acknowledgements are
   * batched (`ackBatchSize`, `ackFlushMs`); `consumer.close()` sends what
   * is pending.
   */
  ack(): void {
    const settlement = { kind: 'ack' } as const;
    if (!this.markSettled(settlement)) return;
    this.settler().settle(this, settlement);
  }

  /**
   * Reports a failed attempt: the broker delivers the record again after
   * `delayMs` (default: the subscription's retry policy), or dead-letters it
   * after the last attempt.
   *
   * Under `RETRY_ORDER_BLOCK_KEY` (the default of PARTITIONED and KEY_SHARED
   * subscriptions) the consumer then holds back the later records of the
   * same key and partition it holds and has not given to the application
   * yet, so they do not overtake the retried record: parked until it comes
   * back when it is due within a second, else handed back unprocessed
   * (no attempt counted) to come again after it.
   *
   * @throws InvalidArgumentError when `delayMs` is not a whole number >= 0.
   */
  nack(options: NackOptions = {}): void {
    const { delayMs } = options;
    if (delayMs !== undefined && !(Number.isSafeInteger(delayMs) && delayMs >= 0)) {
      throw new InvalidArgumentError(`nack delayMs must be a whole number >= 0, got ${String(delayMs)}`);
    }
    const settlement = { kind: 'nack', delayMs, reason: options.reason ?? '', errorClass: options.errorClass ?? '' } as const;
    if (!this.markSettled(settlement)) return;
    this.settler().settle(this, settlement);
  }

  /** Rejects the record as poison: it is dead-lettered now, without further attempts. */
  reject(reason: string, options: RejectOptions = {}): void {
    const settlement = { kind: 'reject', reason, errorClass: options.errorClass ?? '' } as const;
    if (!this.markSettled(settlement)) return;
    this.settler().settle(this, settlement);
  }

  /**
   * Pushes the lease to `ms` from now (sent at once). The consumer already
   * extends leases of held messages by itself; call this to ask for a
   * specific lease, e.g. before a long step. Does nothing once settled.
   *
   * @throws InvalidArgumentError when `ms` is not a whole number >= 1.
   */
  extend(ms: number): void {
    if (!(Number.isSafeInteger(ms) && ms >= 1)) {
      throw new InvalidArgumentError(`extend ms must be a whole number >= 1, got ${String(ms)}`);
    }
    if (this[settledKey] !== undefined) return;
    this.settler().extend(this, ms);
  }

  private markSettled(settlement: AppSettlement): boolean {
    if (this[settledKey] !== undefined) return false;
    const disposition = settlement.kind;
    this[settledKey] = disposition;
    this.endProcessing(settlement);
    this[settleWatchKey]?.(disposition);
    return true;
  }

  /**
   * Ends the `process` span (if tracing) with a `settle` span for the
   * settlement's disposition; a nack or reject ends it as failed, with the
   * application's error class as `error.type` and its reason as the status
   * message.
   */
  private endProcessing(settlement: AppSettlement): void {
    const processing = this[processKey];
    if (!processing) return;
    const target = { topic: this.topic, partition: this.partition, messageId: messageId(this.partition, this.offset), subscription: processing.subscription };
    startSettleSpan(target, processing.context, settlement.kind, this.attempt).end();
    if (settlement.kind === 'ack') {
      processing.span.end();
      return;
    }
    const fallback = settlement.kind === 'reject' ? 'rejected' : 'nacked';
    endFailed(processing.span, settlement.errorClass || fallback, settlement.reason || fallback);
  }

  private settler(): MessageSettler {
    const settler = settlerOf(this);
    if (!settler) throw new InvalidArgumentError('this message was not delivered by a Braid consumer');
    return settler;
  }
}
