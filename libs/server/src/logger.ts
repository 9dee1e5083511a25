/**
 * pino behind the `Logger` interface: JSON lines to stdout, one child per
 * component with structured fields. A line logged while a span is active
 * (tracing on, inside a traced request) carries `trace_id` and `span_id`,
 * so logs and traces of one record can be joined.
 */
import { trace } from '@opentelemetry/api';
import { pino } from 'pino';
import type { Logger } from '@braid/core';

/** Log levels apps accept. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** A level from `logLevels`. */
export type LogLevel = (typeof logLevels)[number];

/**
 * `trace_id` and `span_id` of the active span, if there is one. A fresh
 * object every time: pino merges the line's own fields into it.
 */
export function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** A pino logger for app `name` at `level`, writing JSON lines to stdout. */
export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({ name, level, base: { app: name, pid: process.pid }, mixin: traceFields });
}
