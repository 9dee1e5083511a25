import { createNoopMeter } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '@braid/core/testing';
import { brokerMetrics, metricNames } from '@braid/telemetry';
import { DispatchMetrics } from './dispatch-metrics.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}

  async values(name: string): Promise<{ attributes: object; value: unknown }[]> {
    const { resourceMetrics } = await this.collect();
    const metric: MetricData | undefined = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value }));
  }
}

function setUp(): { reader: TestReader; clock: FakeClock; metrics: DispatchMetrics } {
  const reader = new TestReader();
  const clock = new FakeClock();
  const metrics = new DispatchMetrics(brokerMetrics(new MeterProvider({ readers: [reader] }).getMeter('braid')), 'orders', 'billing', clock);
  return { reader, clock, metrics };
}

const billing = { 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'billing' };
const partition = (p: number): object => ({ ...billing, 'messaging.destination.partition.id': String(p) });

describe('DispatchMetrics', () => {
  it('counts a delivery batch per partition', async () => {
    const { reader, metrics } = setUp();
    metrics.delivered([{ partition: 2 }, { partition: 2 }, { partition: 0 }, { partition: 2 }]);
    metrics.delivered([]);
    metrics.delivered([{ partition: 0 }]);
    expect(await reader.values(metricNames.delivered)).toEqual([
      { attributes: partition(2), value: 3 },
      { attributes: partition(0), value: 2 },
    ]);
  });

  it('counts settles and failures per partition, expiries by cause', async () => {
    const { reader, metrics } = setUp();
    metrics.acknowledged(1, 40);
    metrics.acknowledged(1, 0);
    metrics.nacked(1);
    metrics.rejected(0);
    metrics.deadLettered(0);
    metrics.expired(1, 'lease_expired', 3);
    metrics.expired(1, 'member_left', 2);
    expect(await reader.values(metricNames.acknowledged)).toEqual([{ attributes: partition(1), value: 40 }]);
    expect(await reader.values(metricNames.nacked)).toEqual([{ attributes: partition(1), value: 1 }]);
    expect(await reader.values(metricNames.rejected)).toEqual([{ attributes: partition(0), value: 1 }]);
    expect(await reader.values(metricNames.deadLettered)).toEqual([{ attributes: partition(0), value: 1 }]);
    expect(await reader.values(metricNames.expired)).toEqual([
      { attributes: { ...partition(1), 'error.type': 'lease_expired' }, value: 3 },
      { attributes: { ...partition(1), 'error.type': 'member_left' }, value: 2 },
    ]);
  });

  it('records end-to-end latency from the publish time, in seconds', async () => {
    const { reader, clock, metrics } = setUp();
    const now = clock.now();
    expect(metrics.beginEndToEnd()).toBe(now);
    metrics.endToEnd(now - 40, now);
    metrics.endToEnd(now - 2000, now);
    // A publish time after the ack (clocks of two brokers) counts as 0, not negative.
    metrics.endToEnd(now + 5, now);
    const [point] = await reader.values(metricNames.endToEndDuration);
    expect(point?.attributes).toEqual(billing);
    expect(point?.value).toMatchObject({ count: 3, sum: 2.04, min: 0, max: 2 });
  });

  it('does no work of its own when metrics are off', () => {
    const metrics = new DispatchMetrics(brokerMetrics(createNoopMeter()), 'orders', 'billing', new FakeClock());
    expect(metrics.enabled).toBe(false);
    expect(metrics.beginEndToEnd()).toBeUndefined();
  });

  it('counts rate-limit waits and their time', async () => {
    const { reader, metrics } = setUp();
    metrics.rateLimitWait(50);
    metrics.rateLimitWait(150);
    expect(await reader.values(metricNames.rateLimitWaits)).toEqual([{ attributes: billing, value: 2 }]);
    expect(await reader.values(metricNames.rateLimitWaitTime)).toEqual([{ attributes: billing, value: 0.2 }]);
  });
});
