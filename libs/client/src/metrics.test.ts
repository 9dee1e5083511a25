// The SDK's client metrics (messaging semantic conventions) with a metrics
// SDK registered, against the SDK's FakeBroker: records sent, records the
// application received, and how long each took to settle.
import { metrics } from '@opentelemetry/api';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartPosition } from '@braid/proto';
import { attr, metricNames } from '@braid/telemetry';
import { TestMetricReader } from '@braid/telemetry/testing';
import { Consumer } from './consumer.js';
import type { Message } from './message.js';
import { Producer } from './producer.js';
import { FakeBroker } from './testing.js';

const reader = new TestMetricReader();
let broker: FakeBroker;

beforeAll(async () => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  broker = await FakeBroker.start();
  broker.createTopic('orders', { partitions: 1 });
  broker.createSubscription('orders', 'billing', { startPosition: StartPosition.START_POSITION_EARLIEST });
});

afterAll(() => {
  broker.stop();
});

describe('SDK client metrics', () => {
  it('counts records sent and received and times their processing, per the messaging conventions', async () => {
    const producer = new Producer({ brokers: broker.address, lingerMs: 0 });
    await producer.send('orders', [{ value: 'a' }, { value: 'b' }]);
    await producer.send('orders', { value: 'c' });
    await producer.close();

    const consumer = new Consumer({ brokers: broker.address, topic: 'orders', subscription: 'billing', ackFlushMs: 0 });
    let received = 0;
    for await (const message of consumer as AsyncIterable<Message>) {
      received++;
      if (message.value.toString() === 'b') message.reject('poison');
      else message.ack();
      if (received === 3) break;
    }
    await consumer.close();

    const byName = await reader.byName();
    const sum = (metric: MetricData | undefined): number => (metric?.dataPoints ?? []).reduce((n, p) => n + (p.value as number), 0);
    const sent = byName.get(metricNames.clientSent);
    expect(sent?.descriptor.unit).toBe('{message}');
    expect(sum(sent)).toBe(3);
    expect(sent?.dataPoints[0]?.attributes).toMatchObject({ [attr.system]: 'braid', [attr.destination]: 'orders' });
    expect(sum(byName.get(metricNames.clientConsumed))).toBe(3);
    const durations = byName.get(metricNames.processDuration);
    expect(durations?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const counts = (durations?.dataPoints ?? []).map((p) => [p.attributes[attr.errorType] ?? 'none', (p.value as { count: number }).count]);
    expect(Object.fromEntries(counts)).toEqual({ none: 2, reject: 1 });
  });
});
