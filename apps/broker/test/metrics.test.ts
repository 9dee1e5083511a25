// Metrics of a real broker (issue 8): started with --metrics-port 0, it
// logs the URL of its Prometheus endpoint. The test publishes records,
// consumes them with one subscription that acknowledges some, rejects some
// and nacks others until they are dead-lettered, then scrapes /metrics
// over HTTP and checks every counter against what it did, and that the
// lag is back to 0. A rate-limited subscription counts its waits. A
// subscription whose consumers are down shows its lag, after a broker
// restart too. The coordinator, started without the flag, serves no metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '@braid/client';
import type { Message } from '@braid/client';
import { StartPosition } from '@braid/proto';
import { parsePrometheusText, samplesOf, startLocalCluster, sumOf } from '@braid/testkit';
import type { Exposition, LocalCluster } from '@braid/testkit';

let cluster: LocalCluster;
let metricsUrl: string;

async function scrape(): Promise<Exposition> {
  const response = await fetch(metricsUrl);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parsePrometheusText(await response.text());
}

beforeAll(async () => {
  cluster = await startLocalCluster({ brokerArgs: ['--metrics-port', '0'] });
  metricsUrl = cluster.broker.metricsUrl ?? '';
}, 120_000);

afterAll(async () => {
  await cluster.destroy();
});

const orders = { messaging_destination_name: 'orders' };
const billing = { ...orders, messaging_consumer_group_name: 'billing' };

describe('the broker\'s Prometheus endpoint', () => {
  it('is served at the logged URL (port 0 picks one), with the broker\'s service name', async () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(metricsUrl).not.toMatch(/:0\//);
    const exposition = await scrape();
    expect(samplesOf(exposition, 'target_info', { service_name: 'braid-broker' })).toHaveLength(1);
    expect((await fetch(new URL('/elsewhere', metricsUrl))).status).toBe(404);
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(405);
  });

  it('counts what was published, delivered, acknowledged, nacked, rejected and dead-lettered, and the lag returns to 0', async () => {
    const records = 60;
    const maxAttempts = 2;
    // Record i: nacked on every attempt when i % 5 == 0, rejected when i % 10 == 1, else acknowledged.
    const nackedForever = (i: number): boolean => i % 5 === 0;
    const rejected = (i: number): boolean => i % 10 === 1;
    const indexes = Array.from({ length: records }, (_, i) => i);
    const expectNackedForever = indexes.filter(nackedForever).length;
    const expectRejected = indexes.filter(rejected).length;
    const expectAcked = records - expectNackedForever - expectRejected;

    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('orders', { partitions: 2 });
    await admin.createSubscription('orders', 'billing', {
      startPosition: StartPosition.START_POSITION_EARLIEST,
      retryPolicy: { maxAttempts, initialBackoffMs: 10, maxBackoffMs: 20 },
    });
    admin.close();
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('orders', indexes.map((i) => ({ value: String(i) })));
    await producer.close();

    const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'orders', subscription: 'billing' });
    const acked = new Set<number>();
    const rejects = new Set<number>();
    const lastNacks = new Set<number>();
    let first = true;
    for await (const message of consumer as AsyncIterable<Message>) {
      if (first) {
        // A member is connected, holds this record, and has credit left (it prefetches 1,000).
        first = false;
        const during = await scrape();
        expect(sumOf(during, 'braid_broker_members', billing)).toBe(1);
        expect(sumOf(during, 'braid_broker_credit_records', billing)).toBeGreaterThan(0);
        expect(sumOf(during, 'braid_broker_unsettled_records', billing)).toBeGreaterThan(0);
      }
      const i = Number(message.value.toString());
      if (nackedForever(i)) {
        message.nack({ reason: 'downstream 503', errorClass: 'HttpError' });
        if (message.attempt === maxAttempts) lastNacks.add(i);
      } else if (rejected(i)) {
        message.reject('poison', { errorClass: 'SchemaError' });
        rejects.add(i);
      } else {
        message.ack();
        acked.add(i);
      }
      if (acked.size === expectAcked && rejects.size === expectRejected && lastNacks.size === expectNackedForever) break;
    }
    await consumer.close();

    // Dead-lettering finishes after the last nack and reject: wait for it, and for the lag to settle.
    let exposition = await scrape();
    await expect
      .poll(
        async () => {
          exposition = await scrape();
          return [sumOf(exposition, 'braid_broker_dead_lettered_records_total', billing), sumOf(exposition, 'braid_broker_consumer_lag', billing)];
        },
        { timeout: 15_000, interval: 100 },
      )
      .toEqual([expectNackedForever + expectRejected, 0]);

    expect(exposition.types.get('braid_broker_published_records_total')).toBe('counter');
    expect(sumOf(exposition, 'braid_broker_published_records_total', orders)).toBe(records);
    // Both partitions got some (records without keys go round-robin), and none was refused.
    expect(samplesOf(exposition, 'braid_broker_published_records_total', orders).map((s) => s.labels['messaging_destination_partition_id']).sort()).toEqual(['0', '1']);
    expect(samplesOf(exposition, 'braid_broker_published_records_total').filter((s) => s.labels['error_type'] !== undefined)).toEqual([]);
    // Dead letters are published to the dead-letter topic.
    expect(sumOf(exposition, 'braid_broker_published_records_total', { messaging_destination_name: 'orders.billing.dlq' })).toBe(expectNackedForever + expectRejected);

    expect(sumOf(exposition, 'braid_broker_delivered_records_total', billing)).toBe(expectAcked + expectRejected + expectNackedForever * maxAttempts);
    expect(sumOf(exposition, 'braid_broker_acknowledged_records_total', billing)).toBe(expectAcked);
    expect(sumOf(exposition, 'braid_broker_nacked_records_total', billing)).toBe(expectNackedForever * maxAttempts);
    expect(sumOf(exposition, 'braid_broker_rejected_records_total', billing)).toBe(expectRejected);
    expect(sumOf(exposition, 'braid_broker_expired_records_total', billing)).toBe(0);

    // Gauges per partition, back to rest with the member gone.
    for (const partition of ['0', '1']) {
      expect(samplesOf(exposition, 'braid_broker_consumer_lag', { ...billing, messaging_destination_partition_id: partition }).map((s) => s.value)).toEqual([0]);
    }
    expect(sumOf(exposition, 'braid_broker_unsettled_records', billing)).toBe(0);
    expect(sumOf(exposition, 'braid_broker_pending_retries', billing)).toBe(0);
    expect(sumOf(exposition, 'braid_broker_members', billing)).toBe(0);
    expect(sumOf(exposition, 'braid_broker_credit_records', billing)).toBe(0);
    expect(sumOf(exposition, 'braid_broker_storage_bytes', orders)).toBeGreaterThan(0);
    expect(sumOf(exposition, 'braid_broker_storage_bytes', { messaging_destination_name: 'orders.billing.dlq' })).toBeGreaterThan(0);

    // Histograms: every acknowledgement's end-to-end latency (far below the sampling threshold), and the publishes.
    expect(exposition.types.get('braid_broker_end_to_end_duration')).toBe('histogram');
    expect(sumOf(exposition, 'braid_broker_end_to_end_duration_count', billing)).toBe(expectAcked);
    expect(sumOf(exposition, 'braid_broker_end_to_end_duration_bucket', { ...billing, le: '+Inf' })).toBe(expectAcked);
    expect(sumOf(exposition, 'braid_broker_end_to_end_duration_sum', billing)).toBeGreaterThan(0);
    const publishes = sumOf(exposition, 'braid_broker_publish_duration_count', orders);
    expect(publishes).toBeGreaterThanOrEqual(1);
    expect(sumOf(exposition, 'braid_broker_publish_duration_bucket', { ...orders, le: '+Inf' })).toBe(publishes);
  }, 60_000);

  it('counts the waits of a rate-limited subscription', async () => {
    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('sms', { partitions: 1 });
    await admin.createSubscription('sms', 'provider', {
      startPosition: StartPosition.START_POSITION_EARLIEST,
      rateLimit: { recordsPerSecond: 20, burst: 1 },
    });
    admin.close();
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('sms', Array.from({ length: 5 }, (_, i) => ({ value: `sms-${i}` })));
    await producer.close();
    const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'sms', subscription: 'provider' });
    let received = 0;
    for await (const message of consumer as AsyncIterable<Message>) {
      message.ack();
      if (++received === 5) break;
    }
    await consumer.close();

    const provider = { messaging_destination_name: 'sms', messaging_consumer_group_name: 'provider' };
    const exposition = await scrape();
    // 5 records at 20/s with a burst of 1: dispatch waited for tokens at least 4 times, about 50 ms each.
    expect(sumOf(exposition, 'braid_broker_rate_limit_waits_total', provider)).toBeGreaterThanOrEqual(4);
    expect(sumOf(exposition, 'braid_broker_rate_limit_wait_time_total', provider)).toBeGreaterThan(0.1);
    expect(sumOf(exposition, 'braid_broker_delivered_records_total', provider)).toBe(5);
    expect(sumOf(exposition, 'braid_broker_rate_limit_waits_total', billing)).toBe(0);
  }, 30_000);

  it('is off without --metrics-port: the coordinator logs no metrics URL', () => {
    expect(cluster.coordinator.logs).toMatch(/serving/);
    expect(cluster.coordinator.metricsUrl).toBeUndefined();
  });

  it('reports the lag of a subscription whose consumers are down, also after a restart', async () => {
    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('signups', { partitions: 2 });
    await admin.createSubscription('signups', 'mailer', { startPosition: StartPosition.START_POSITION_EARLIEST });
    admin.close();
    const producer = new Producer({ brokers: cluster.broker.address });
    await producer.send('signups', Array.from({ length: 10 }, (_, i) => ({ value: `first-${i}` })));
    // The mailer handles the first 10, then its consumers go down.
    const consumer = new Consumer({ brokers: cluster.broker.address, topic: 'signups', subscription: 'mailer', ackFlushMs: 0 });
    let received = 0;
    for await (const message of consumer as AsyncIterable<Message>) {
      message.ack();
      if (++received === 10) break;
    }
    await consumer.close();
    await producer.send('signups', Array.from({ length: 7 }, (_, i) => ({ value: `backlog-${i}` })));
    await producer.close();
    const mailer = { messaging_destination_name: 'signups', messaging_consumer_group_name: 'mailer' };
    await expect.poll(async () => sumOf(await scrape(), 'braid_broker_consumer_lag', mailer), { timeout: 10_000, interval: 100 }).toBe(7);

    // After a restart no member has opened the subscription: the lag comes from its stored state.
    await cluster.restartBroker();
    metricsUrl = cluster.broker.metricsUrl ?? '';
    const exposition = await scrape();
    expect(samplesOf(exposition, 'braid_broker_consumer_lag', mailer).map((s) => s.labels['messaging_destination_partition_id']).sort()).toEqual(['0', '1']);
    expect(sumOf(exposition, 'braid_broker_consumer_lag', mailer)).toBe(7);
    expect(sumOf(exposition, 'braid_broker_members', mailer)).toBe(0);
    // DescribeSubscription shows the same.
    const describer = new Admin({ brokers: cluster.broker.address });
    const described = await describer.describeSubscription('signups', 'mailer');
    describer.close();
    expect(described.members).toEqual([]);
    expect(described.partitions.map((p) => p.partition)).toEqual([0, 1]);
    expect(described.partitions.reduce((sum, p) => sum + p.lag, 0)).toBe(7);
    expect(described.partitions.reduce((sum, p) => sum + p.highWatermark - p.committedOffset, 0)).toBe(7);
  }, 60_000);

  it('closes with a graceful stop', async () => {
    expect((await cluster.broker.stop()).code).toBe(0);
    await expect(fetch(metricsUrl)).rejects.toThrow();
  }, 30_000);
});
