import { createNoopMeter } from '@opentelemetry/api';
import { DataPointType, MeterProvider } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { attr, errorType } from './messaging.js';
import { TestMetricReader } from './testing.js';
import { brokerMetrics, dlqAdminMetrics, durationBuckets, metricNames, observeDeadLetterQueues } from './metrics.js';

function setUp(): { reader: TestMetricReader; meter: ReturnType<MeterProvider['getMeter']> } {
  const reader = new TestMetricReader();
  const provider = new MeterProvider({ readers: [reader] });
  return { reader, meter: provider.getMeter('braid') };
}

const points = (metric: MetricData | undefined): { attributes: object; value: unknown }[] =>
  (metric?.dataPoints ?? []).map((point) => ({ attributes: point.attributes, value: point.value }));

describe('brokerMetrics', () => {
  it('counts, times and observes under the names and units of the README', async () => {
    const { reader, meter } = setUp();
    const broker = brokerMetrics(meter);
    const orders = { [attr.destination]: 'orders', [attr.partition]: '0' };
    broker.published.add(100, orders);
    broker.published.add(50, orders);
    broker.publishDuration.record(0.003, { [attr.destination]: 'orders' });
    let collections = 0;
    const stop = broker.observe((result) => {
      collections++;
      result.observe(broker.consumerLag, 7, { ...orders, [attr.consumerGroup]: 'billing' });
      result.observe(broker.storageBytes, 4096, orders);
    });

    const collected = await reader.byName();
    expect(collected.get(metricNames.published)?.descriptor.unit).toBe('{record}');
    expect(points(collected.get(metricNames.published))).toEqual([{ attributes: orders, value: 150 }]);
    const duration = collected.get(metricNames.publishDuration);
    expect(duration?.descriptor.unit).toBe('s');
    expect(duration?.dataPointType).toBe(DataPointType.HISTOGRAM);
    const histogram = duration?.dataPoints[0]?.value as { buckets: { boundaries: number[]; counts: number[] }; count: number } | undefined;
    // Seconds, from 5 ms: the SDK's default buckets are for milliseconds.
    expect(histogram?.buckets.boundaries).toEqual(durationBuckets);
    expect(histogram?.buckets.counts[0]).toBe(1);
    expect(points(collected.get(metricNames.consumerLag))).toEqual([{ attributes: { ...orders, [attr.consumerGroup]: 'billing' }, value: 7 }]);
    expect(collected.get(metricNames.storageBytes)?.descriptor.unit).toBe('By');

    stop();
    await reader.byName();
    expect(collections).toBe(1);
  });

  it('knows whether it measures: not on the API\'s no-op meter', () => {
    expect(brokerMetrics(setUp().meter).enabled).toBe(true);
    expect(brokerMetrics(createNoopMeter()).enabled).toBe(false);
    // No SDK registered in this process: the global meter is the no-op.
    expect(brokerMetrics().enabled).toBe(false);
  });

  it('creates every broker instrument listed, under its own name', async () => {
    const { reader, meter } = setUp();
    const broker = brokerMetrics(meter);
    const counters = [broker.published, broker.delivered, broker.acknowledged, broker.nacked, broker.rejected, broker.expired, broker.deadLettered, broker.rateLimitWaits, broker.rateLimitWaitTime];
    for (const counter of counters) counter.add(1);
    for (const histogram of [broker.publishDuration, broker.endToEndDuration]) histogram.record(1);
    broker.observe((result) => {
      for (const key of ['consumerLag', 'unsettled', 'pendingRetries', 'creditRecords', 'members', 'storageBytes', 'unflushedBytes', 'tailCacheBytes', 'subscribeQueuedMessages', 'subscribeQueuedBytes'] as const) result.observe(broker[key], 1);
    });
    const brokerNames = Object.values(metricNames).filter((name) => name.startsWith('braid.broker.'));
    expect([...(await reader.byName()).keys()].sort()).toEqual(brokerNames.sort());
  });
});

describe('observeDeadLetterQueues', () => {
  it('reports each queue\'s depth and oldest age at collection time, and 0 for a queue that is gone', async () => {
    const { reader, meter } = setUp();
    let queues = [
      { topic: 'orders', subscription: 'billing', depth: 3, oldestAgeMs: 1500 },
      { topic: 'orders', subscription: 'search', depth: 1, oldestAgeMs: 10 },
    ];
    observeDeadLetterQueues(() => queues, dlqAdminMetrics(meter));
    const billing = { [attr.destination]: 'orders', [attr.consumerGroup]: 'billing' };
    const search = { [attr.destination]: 'orders', [attr.consumerGroup]: 'search' };
    let collected = await reader.byName();
    expect(points(collected.get(metricNames.dlqDepth))).toEqual([{ attributes: billing, value: 3 }, { attributes: search, value: 1 }]);
    expect(points(collected.get(metricNames.dlqOldestAge))).toEqual([{ attributes: billing, value: 1.5 }, { attributes: search, value: 0.01 }]);
    // The SDK would go on exporting the last value of a series no longer reported.
    queues = [{ topic: 'orders', subscription: 'billing', depth: 2, oldestAgeMs: 2500 }];
    collected = await reader.byName();
    expect(points(collected.get(metricNames.dlqDepth))).toEqual([{ attributes: billing, value: 2 }, { attributes: search, value: 0 }]);
    expect(points(collected.get(metricNames.dlqOldestAge))).toEqual([{ attributes: billing, value: 2.5 }, { attributes: search, value: 0 }]);
  });
});

describe('errorType', () => {
  it('prefers a Braid error\'s reason, then the class name', () => {
    expect(errorType(Object.assign(new Error('full'), { reason: 'MEMORY_PRESSURE' }))).toBe('MEMORY_PRESSURE');
    expect(errorType(new RangeError('x'))).toBe('RangeError');
    expect(errorType('boom')).toBe('Error');
  });
});
