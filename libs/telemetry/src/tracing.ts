/**
 * Braid's spans: one helper per span kind of the tracing design, named and
 * attributed per the messaging semantic conventions (`messaging.ts`).
 *
 * `tracingEnabled()` is false until an OpenTelemetry SDK is registered
 * globally; callers on hot paths check it first and then skip everything
 * (no span objects, no header copies), which is how tracing that is off
 * costs nothing measurable.
 */
import { ProxyTracerProvider, SpanKind, SpanStatusCode, context as contextApi, trace } from '@opentelemetry/api';
import type { Attributes, Context, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';
import { attr, errorType, messagingSystem } from './messaging.js';
import type { Disposition, OperationType } from './messaging.js';

const tracerName = 'braid';

/** Set once a registered provider was seen: registration is for the process's life. */
let registered = false;

/** Whether a tracer provider (an OpenTelemetry SDK) is registered globally. */
export function tracingEnabled(): boolean {
  if (registered) return true;
  registered = providerRegistered();
  return registered;
}

function providerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  // The API's global provider is a proxy whose delegate is the registered
  // SDK; no other public way tells "nothing registered" apart (API 1.x).
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  if (provider instanceof ProxyTracerProvider) return provider.getDelegateTracer(tracerName) !== undefined;
  return true;
}

let braidTracer: Tracer | undefined;

/**
 * Braid's tracer, looked up once: the API hands out a proxy that follows a
 * provider registered later, and the provider's lookup by name builds a key
 * string on every call (a per-record cost on the producer's path).
 */
function tracer(): Tracer {
  braidTracer ??= trace.getTracer(tracerName);
  return braidTracer;
}

/** Where a span's record lives. */
export interface SpanTarget {
  topic: string;
  partition?: number | undefined;
  /** `messaging.message.id` (`messageId(partition, offset)`), when known. */
  messageId?: string | undefined;
  /** Subscription, for consumer-side spans (`messaging.consumer.group.name`). */
  subscription?: string | undefined;
}

function baseAttributes(operation: string, type: OperationType, target: SpanTarget): Attributes {
  const attributes: Attributes = {
    [attr.system]: messagingSystem,
    [attr.operationName]: operation,
    [attr.operationType]: type,
    [attr.destination]: target.topic,
  };
  if (target.partition !== undefined) attributes[attr.partition] = String(target.partition);
  if (target.messageId !== undefined) attributes[attr.messageId] = target.messageId;
  if (target.subscription !== undefined) attributes[attr.consumerGroup] = target.subscription;
  return attributes;
}

function links(spanContexts: readonly (SpanContext | undefined)[]): Link[] {
  return spanContexts.filter((c): c is SpanContext => c !== undefined).map((c) => ({ context: c }));
}

/** SDK producer: `send <topic>` (PRODUCER), a child of the caller's active context. */
export function startSendSpan(target: SpanTarget, parent: Context = contextApi.active()): Span {
  return tracer().startSpan(`send ${target.topic}`, { kind: SpanKind.PRODUCER, attributes: baseAttributes('send', 'send', target) }, parent);
}

/**
 * Broker: `publish <topic>` (SERVER) for one publish request, a child of the
 * first record's producer context, linked to the others'.
 */
export function startPublishSpan(target: SpanTarget, records: number, producers: readonly (SpanContext | undefined)[]): Span {
  const [first, ...rest] = producers;
  const parent = first ? trace.setSpanContext(contextApi.active(), first) : contextApi.active();
  return tracer().startSpan(
    `publish ${target.topic}`,
    { kind: SpanKind.SERVER, attributes: { ...baseAttributes('publish', 'send', target), [attr.batchCount]: records }, links: links(rest) },
    parent,
  );
}

/**
 * Broker: `deliver`, `retry` or `dead_letter <topic>` (PRODUCER for
 * deliveries, INTERNAL otherwise) for one record, linked to its creation
 * context.
 */
export function startRecordSpan(
  operation: 'deliver' | 'retry' | 'dead_letter',
  target: SpanTarget,
  created: SpanContext | undefined,
  attributes: Attributes = {},
): Span {
  const type: OperationType = operation === 'deliver' ? 'send' : 'settle';
  return tracer().startSpan(`${operation} ${target.topic}`, {
    kind: operation === 'deliver' ? SpanKind.PRODUCER : SpanKind.INTERNAL,
    attributes: { ...baseAttributes(operation, type, target), ...attributes },
    links: links([created]),
  }, contextApi.active());
}

/**
 * SDK consumer: `process <topic>` (CONSUMER), created when the application
 * receives the record, a child of the record's creation context (so the
 * producer's trace shows every attempt).
 */
export function startProcessSpan(target: SpanTarget, created: Context, attempt: number): Span {
  return tracer().startSpan(
    `process ${target.topic}`,
    { kind: SpanKind.CONSUMER, attributes: { ...baseAttributes('process', 'process', target), [attr.attempt]: attempt } },
    created,
  );
}

/** SDK consumer: `settle <topic>` (CLIENT) with the disposition, a child of the process span's context. */
export function startSettleSpan(target: SpanTarget, parent: Context, disposition: Disposition, attempt: number): Span {
  return tracer().startSpan(
    `settle ${target.topic}`,
    { kind: SpanKind.CLIENT, attributes: { ...baseAttributes('settle', 'settle', target), [attr.disposition]: disposition, [attr.attempt]: attempt } },
    parent,
  );
}

/** dlq-admin: `redrive <topic>` (PRODUCER), linked to the record's original creation context. */
export function startRedriveSpan(target: SpanTarget, original: SpanContext | undefined): Span {
  return tracer().startSpan(`redrive ${target.topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: { ...baseAttributes('redrive', 'send', target), [attr.disposition]: 'redrive' },
    links: links([original]),
  }, contextApi.active());
}

/**
 * Ends `span` when `work` settles: plainly on success, as failed on error
 * (the error goes on to the caller). A `work` that throws at once ends it
 * too.
 */
export function endWhenSettled<T>(span: Span, work: () => Promise<T>): Promise<T> {
  let running: Promise<T>;
  try {
    running = work();
  } catch (error) {
    endWithError(span, error);
    throw error;
  }
  return running.then(
    (result) => {
      span.end();
      return result;
    },
    (error: unknown) => {
      endWithError(span, error);
      throw error;
    },
  );
}

/** Ends `span` as failed with `error` (`error.type` = its reason, class or name). */
export function endWithError(span: Span, error: unknown): void {
  endFailed(span, errorType(error), error instanceof Error ? error.message : String(error));
}

/** Ends `span` as failed with `error.type` = `type` and the status message `message` (a settle's error class and reason). */
export function endFailed(span: Span, type: string, message: string): void {
  span.setAttribute(attr.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.end();
}
