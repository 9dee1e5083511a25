// Which records carry a trace context when the application samples: a
// sampled `send` always puts its context in the headers; an unsampled one
// does only when the caller is inside a trace (its decision must reach
// downstream), and a new trace that was not sampled leaves the record
// without one (nothing downstream would record it; see traceToPropagate in
// producer.ts). Against the SDK's FakeBroker, with a sampler that keeps only
// sends to the topic "sampled".
import { ROOT_CONTEXT, SpanKind, TraceFlags, context, trace } from '@opentelemetry/api';
import type { Attributes, Context } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartPosition } from '@braid/proto';
import { attr } from '@braid/telemetry';
import { recordSpans } from '@braid/telemetry/testing';
import { Consumer } from './consumer.js';
import { Producer } from './producer.js';
import { FakeBroker } from './testing.js';

/** Samples spans whose destination is "sampled"; children follow their parent. */
class TopicSampler implements Sampler {
  shouldSample(parent: Context, _traceId: string, _name: string, _kind: SpanKind, attributes: Attributes): SamplingResult {
    const parentContext = trace.getSpanContext(parent);
    if (parentContext !== undefined) {
      return { decision: (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    return { decision: attributes[attr.destination] === 'sampled' ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return 'TopicSampler';
  }
}

const exporter = recordSpans({ sampler: new TopicSampler(), contextManager: true });
let broker: FakeBroker;

beforeAll(async () => {
  broker = await FakeBroker.start();
  for (const topic of ['sampled', 'unsampled']) {
    broker.createTopic(topic, { partitions: 1 });
    broker.createSubscription(topic, 'reader', { startPosition: StartPosition.START_POSITION_EARLIEST });
  }
});

afterAll(() => {
  broker.stop();
});

/** The headers of the first `count` records of `topic`, in offset order. */
async function headersOf(topic: string, count: number): Promise<Record<string, string>[]> {
  const consumer = new Consumer({ brokers: broker.address, topic, subscription: 'reader', ackFlushMs: 0 });
  const headers: Record<string, string>[] = [];
  for await (const message of consumer) {
    headers.push({ ...message.headers });
    message.ack();
    if (headers.length === count) break;
  }
  await consumer.close();
  return headers;
}

describe('trace context in records under sampling', () => {
  it('propagates sampled sends and unsampled traces the caller is in, not unsampled new traces', async () => {
    const producer = new Producer({ brokers: broker.address, lingerMs: 0 });
    const sampled = await producer.send('sampled', { key: 'k', value: 'a' });
    await producer.send('unsampled', { key: 'k', value: 'new trace, not sampled' });
    // The caller is inside a trace another service decided not to sample.
    const callerTrace = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.NONE };
    await context.with(trace.setSpanContext(ROOT_CONTEXT, callerTrace), () => producer.send('unsampled', { key: 'k', value: 'inside a trace' }));
    await producer.close();

    const send = exporter.getFinishedSpans().find((s) => s.name === 'send sampled');
    expect(send?.attributes[attr.messageId]).toBe(`${sampled.partition}:${sampled.offset}`);
    const [sampledHeaders] = await headersOf('sampled', 1);
    expect(sampledHeaders?.['traceparent']).toBe(`00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`);

    const [newTrace, insideTrace] = await headersOf('unsampled', 2);
    expect(newTrace).toEqual({});
    // The unsampled `send` span is the caller's trace's child, flags 00.
    expect(insideTrace?.['traceparent']).toMatch(new RegExp(`^00-${callerTrace.traceId}-[0-9a-f]{16}-00$`));
    expect(insideTrace?.['traceparent']).not.toContain(callerTrace.spanId);
    // Only the sampled send was exported.
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.PRODUCER).map((s) => s.name)).toEqual(['send sampled']);
  });
});
