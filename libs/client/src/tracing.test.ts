// The SDK's spans with an OpenTelemetry SDK registered (in-memory exporter),
// against the SDK's FakeBroker: `send` per send() call with its context in
// the record headers, and for the consumer one `process` span per attempt
// the application received (children of the record's creation context, so
// the producer's trace shows every attempt) and a `settle` span with the
// disposition. Prefetched records the application never took get none.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { StartPosition } from '@braid/proto';
import { attr } from '@braid/telemetry';
import { recordSpans } from '@braid/telemetry/testing';
import { Consumer } from './consumer.js';
import type { Message } from './message.js';
import { Producer } from './producer.js';
import { FakeBroker } from './testing.js';

const exporter = recordSpans();
let broker: FakeBroker;
let clock: FakeClock;

beforeAll(async () => {
  clock = new FakeClock(Date.now());
  broker = await FakeBroker.start({ clock });
  broker.createTopic('orders', { partitions: 1 });
  broker.createSubscription('orders', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST });
});

afterAll(() => {
  broker.stop();
});

describe('SDK tracing', () => {
  it('traces a record sent once, nacked twice and acknowledged as one story', async () => {
    const producer = new Producer({ brokers: broker.address, lingerMs: 0 });
    const sent = await producer.send('orders', { key: 'user-1', value: 'create' });
    await producer.close();

    const consumer = new Consumer({ brokers: broker.address, topic: 'orders', subscription: 'billing', ackFlushMs: 0 });
    const attempts: number[] = [];
    const iterator = consumer[Symbol.asyncIterator]();
    for (;;) {
      const next = iterator.next();
      // Retries wait on the broker's clock: move it until the next delivery arrives.
      const ticker = setInterval(() => {
        void clock.advance(1_000).then(() => { broker.subscriptions.expireLeases(); });
      }, 20);
      const result: IteratorResult<Message> = await next;
      clearInterval(ticker);
      if (result.done === true) break;
      const message = result.value;
      attempts.push(message.attempt);
      expect(message.headers['traceparent']).toMatch(/^00-/);
      if (message.attempt < 3) message.nack({ delayMs: 0, reason: 'downstream 503' });
      else {
        message.ack();
        break;
      }
    }
    await consumer.close();
    expect(attempts).toEqual([1, 2, 3]);

    const spans = exporter.getFinishedSpans();
    const send = spans.find((s) => s.name === 'send orders');
    expect(send).toMatchObject({ kind: SpanKind.PRODUCER, attributes: { [attr.system]: 'braid', [attr.destination]: 'orders', [attr.messageId]: `${sent.partition}:${sent.offset}` } });
    const traceId = send?.spanContext().traceId;
    const processes = spans.filter((s) => s.name === 'process orders');
    expect(processes.map((s) => s.attributes[attr.attempt])).toEqual([1, 2, 3]);
    for (const process of processes) {
      expect(process.kind).toBe(SpanKind.CONSUMER);
      expect(process.spanContext().traceId).toBe(traceId);
      expect(process.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(process.attributes[attr.consumerGroup]).toBe('billing');
    }
    expect(processes.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
    const settles = spans.filter((s) => s.name === 'settle orders');
    expect(settles.map((s) => s.attributes[attr.disposition])).toEqual(['nack', 'nack', 'ack']);
    expect(settles.map((s) => s.parentSpanContext?.spanId)).toEqual(processes.map((p) => p.spanContext().spanId));
  });
});
