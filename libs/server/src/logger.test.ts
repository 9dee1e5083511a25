import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { createLogger, traceFields } from './logger.js';

describe('traceFields (pino mixin)', () => {
  it('adds trace_id and span_id while a span is active, nothing otherwise', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const span = new BasicTracerProvider().getTracer('test').startSpan('work');
    expect(traceFields()).toEqual({});
    const inside = await context.with(trace.setSpan(context.active(), span), async () => {
      await new Promise((resolve) => setImmediate(resolve));
      return traceFields();
    });
    expect(inside).toEqual({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    span.end();
  });
});

describe('createLogger', () => {
  it('logs lines with fields and errors outside any span (pino merges into the mixin object)', () => {
    const logger = createLogger('test', 'error');
    expect(() => {
      logger.error({ err: new Error('boom'), topic: 't' }, 'written to stdout on purpose: a line with fields');
    }).not.toThrow();
    expect(Object.isFrozen(traceFields())).toBe(false);
  });
});
