import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  attr,
  endWithError,
  extractTraceContext,
  injectTraceContext,
  linkedSpanContext,
  messageId,
  sampledTraceparent,
  startProcessSpan,
  startPublishSpan,
  startRecordSpan,
  startSendSpan,
  startSettleSpan,
  tracingEnabled,
} from './index.js';
import { recordSpans } from './testing.js';

describe('tracing', () => {
  it('is off, and injects nothing, until an SDK is registered', () => {
    expect(tracingEnabled()).toBe(false);
    const headers: Record<string, string> = {};
    injectTraceContext(headers);
    expect(headers).toEqual({});
    expect(linkedSpanContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })).toBeUndefined();
  });

  it('names, parents, links and attributes the spans of one record', () => {
    const exporter = recordSpans();
    expect(tracingEnabled()).toBe(true);

    const send = startSendSpan({ topic: 'orders', partition: 2 });
    const headers: Record<string, string> = { app: 'x' };
    injectTraceContext(headers, trace.setSpan(extractTraceContext({}), send));
    expect(headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    send.setAttribute(attr.messageId, messageId(2, 41));
    send.end();

    const created = linkedSpanContext(headers);
    expect(created?.spanId).toBe(send.spanContext().spanId);
    startPublishSpan({ topic: 'orders', partition: 2 }, 1, [created]).end();
    startRecordSpan('deliver', { topic: 'orders', partition: 2, messageId: '2:41', subscription: 'billing' }, created, { [attr.attempt]: 1 }).end();
    const process = startProcessSpan({ topic: 'orders', partition: 2, messageId: '2:41', subscription: 'billing' }, extractTraceContext(headers), 2);
    startSettleSpan({ topic: 'orders', subscription: 'billing' }, trace.setSpan(extractTraceContext(headers), process), 'nack', 2).end();
    endWithError(process, Object.assign(new Error('downstream 503'), { name: 'HttpError' }));

    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const traceId = send.spanContext().traceId;
    expect([...byName.keys()]).toEqual(['send orders', 'publish orders', 'deliver orders', 'settle orders', 'process orders']);
    expect(byName.get('send orders')).toMatchObject({ kind: SpanKind.PRODUCER, attributes: { [attr.system]: 'braid', [attr.operationType]: 'send', [attr.destination]: 'orders', [attr.partition]: '2', [attr.messageId]: '2:41' } });
    // The broker's publish is a child of the producer's send.
    expect(byName.get('publish orders')?.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(byName.get('publish orders')?.attributes[attr.batchCount]).toBe(1);
    // A delivery is linked to the record's creation, not a child of it.
    const deliver = byName.get('deliver orders');
    expect(deliver?.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(deliver?.spanContext().traceId).not.toBe(traceId);
    // The consumer's process is a child of the creation context; settle a child of process.
    const processed = byName.get('process orders');
    expect(processed).toMatchObject({ kind: SpanKind.CONSUMER, attributes: { [attr.attempt]: 2, [attr.consumerGroup]: 'billing', [attr.errorType]: 'HttpError' } });
    expect(processed?.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(processed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName.get('settle orders')).toMatchObject({ kind: SpanKind.CLIENT, attributes: { [attr.disposition]: 'nack', [attr.attempt]: 2 } });
    expect(byName.get('settle orders')?.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect(new Set([send, process].map((s) => s.spanContext().traceId))).toEqual(new Set([traceId]));
  });
});

describe('sampledTraceparent', () => {
  it('reads the sampled flag of a W3C traceparent', () => {
    expect(sampledTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')).toBe(true);
    expect(sampledTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00')).toBe(false);
    expect(sampledTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03')).toBe(true);
    expect(sampledTraceparent(undefined)).toBe(false);
    expect(sampledTraceparent('garbage')).toBe(false);
  });
});
