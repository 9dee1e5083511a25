/**
 * W3C trace context (`traceparent`, `tracestate`) in record headers: the
 * producer injects the context of its `send` span into each record, and
 * whoever handles the record later (broker, consumer, dlq-admin) extracts it
 * to parent or link its own spans. Uses the globally registered propagator,
 * so nothing happens until an app (or the application embedding the SDK)
 * registers an OpenTelemetry SDK; Braid's apps register the W3C one.
 */
import { ROOT_CONTEXT, context as contextApi, propagation, trace } from '@opentelemetry/api';
import type { Context, SpanContext, TextMapGetter, TextMapSetter } from '@opentelemetry/api';

/** Record headers: string names to string values. */
export type Headers = Record<string, string>;

const setter: TextMapSetter<Headers> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<Readonly<Headers>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** Writes the trace context of `context` (default: the active one) into `headers`. */
export function injectTraceContext(headers: Headers, context: Context = contextApi.active()): void {
  propagation.inject(context, headers, setter);
}

/** The context carried by `headers` (ROOT when they carry none). */
export function extractTraceContext(headers: Readonly<Headers>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/** The span context carried by `headers`, for a link; undefined when there is none. */
export function linkedSpanContext(headers: Readonly<Headers>): SpanContext | undefined {
  return trace.getSpanContext(extractTraceContext(headers));
}

/**
 * Whether `headers` carry a trace context whose sampled flag is set: a
 * cheap check (no parsing beyond the flags) for hot paths that follow the
 * producer's sampling decision and skip everything for unsampled records.
 */
export function sampledTraceparent(traceparent: string | undefined): boolean {
  // version-traceid-spanid-flags: "00-<32 hex>-<16 hex>-<2 hex>"
  if (traceparent === undefined || traceparent.length < 55) return false;
  const flags = Number.parseInt(traceparent.slice(53, 55), 16);
  return (flags & 1) === 1;
}
