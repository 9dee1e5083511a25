import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { traceFields } from './logger.js';

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
