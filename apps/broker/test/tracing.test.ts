// Tracing across the SDK and a real broker (issue 8): the test process is
// the application (an in-memory exporter behind a registered SDK), and the
// broker exports over OTLP/HTTP (protobuf) to a receiver started here,
// configured only by OTEL_* variables. One record sent, nacked twice and
// rejected yields one story: the broker's `publish` is a child of the
// producer's `send`; every `process` is a child of it too; the broker's
// `deliver`, `retry` and `dead_letter` spans link to it.
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { StartPosition } from '@braid/proto';
import { attr } from '@braid/telemetry';
import { recordSpans } from '@braid/telemetry/testing';
import { startLocalCluster } from '@braid/testkit';
import type { LocalCluster } from '@braid/testkit';
import { OtlpReceiver } from '@braid/testkit';
import type { ReceivedSpan } from '@braid/testkit';

const exporter = recordSpans();
let receiver: OtlpReceiver;
let cluster: LocalCluster;

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  cluster = await startLocalCluster({ brokerEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' } });
}, 120_000);

afterAll(async () => {
  await cluster.destroy();
  await receiver.stop();
});

const OTLP_SERVER = 2;
const OTLP_PRODUCER = 4;

describe('tracing through the broker', () => {
  it('tells one record sent, nacked twice and rejected as one story, exported over OTLP/HTTP by the broker', async () => {
    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('story', { partitions: 1 });
    await admin.createSubscription('story', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST, retryPolicy: { maxAttempts: 5, initialBackoffMs: 20, maxBackoffMs: 50 } });
    admin.close();
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('story', { key: 'user-1', value: 'create' });
    await producer.close();

    const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'story', subscription: 'billing' });
    for await (const message of consumer as AsyncIterable<Message>) {
      if (message.attempt < 3) message.nack({ reason: 'downstream 503', errorClass: 'HttpError' });
      else {
        message.reject('poison', { errorClass: 'SchemaError' });
        break;
      }
    }
    await consumer.close();

    const send = exporter.getFinishedSpans().find((s) => s.name === 'send story');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    const traceId = send?.spanContext().traceId ?? '';
    const sendId = send?.spanContext().spanId ?? '';
    const client = exporter.getFinishedSpans();
    expect(client.filter((s) => s.name === 'process story').map((s) => [s.attributes[attr.attempt], s.parentSpanContext?.spanId, s.spanContext().traceId])).toEqual([
      [1, sendId, traceId],
      [2, sendId, traceId],
      [3, sendId, traceId],
    ]);
    expect(client.filter((s) => s.name === 'settle story').map((s) => s.attributes[attr.disposition])).toEqual(['nack', 'nack', 'reject']);

    // The broker's spans reach the receiver (batched every 100 ms).
    const named = (name: string): ReceivedSpan[] => receiver.spans.filter((s) => s.name === name);
    await expect.poll(() => named('dead_letter story').length, { timeout: 15_000 }).toBe(1);
    expect(receiver.contentTypes.every((type) => type === 'application/x-protobuf')).toBe(true);
    expect(new Set(receiver.spans.map((s) => s.service))).toEqual(new Set(['braid-broker']));
    const publish = named('publish story');
    expect(publish).toHaveLength(1);
    expect(publish[0]).toMatchObject({ traceId, parentSpanId: sendId, kind: OTLP_SERVER, attributes: { [attr.system]: 'braid', [attr.destination]: 'story', [attr.batchCount]: 1 } });
    const linksToSend = (spans: ReceivedSpan[]): boolean => spans.every((s) => s.links.length === 1 && s.links[0]?.spanId === sendId && s.links[0].traceId === traceId);
    const deliveries = named('deliver story');
    expect(deliveries.map((s) => s.attributes[attr.attempt])).toEqual([1, 2, 3]);
    expect(deliveries.every((s) => s.kind === OTLP_PRODUCER && s.attributes[attr.consumerGroup] === 'billing')).toBe(true);
    expect(linksToSend(deliveries)).toBe(true);
    const retries = named('retry story');
    expect(retries.map((s) => [s.attributes[attr.attempt], s.attributes[attr.disposition]])).toEqual([
      [1, 'nack'],
      [2, 'nack'],
    ]);
    expect(linksToSend(retries)).toBe(true);
    const deadLetter = named('dead_letter story');
    expect(deadLetter[0]?.attributes).toMatchObject({ [attr.attempt]: 3, [attr.disposition]: 'dead_letter', [attr.messageId]: '0:0' });
    expect(linksToSend(deadLetter)).toBe(true);
    // The dead letter carries the record's headers, so its own publish joins the story.
    expect(named('publish story.billing.dlq')[0]).toMatchObject({ traceId, parentSpanId: sendId });
  }, 60_000);
});
