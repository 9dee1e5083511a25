// The coordinator's Prometheus endpoint (issue 8, `--metrics-port`): with
// two brokers and a 4-partition topic it reports itself as the leader, two
// live brokers, every partition available, the topic, the subscription and
// the metadata version; once one broker is killed with kill -9 and its
// lease lapses, one broker down and that broker's partitions unavailable,
// which is what an operator alerts on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '@braid/client';
import { parsePrometheusText, samplesOf, startLocalCluster, sumOf } from '@braid/testkit';
import type { Exposition, LocalCluster } from '@braid/testkit';

/** Broker lease at the coordinator: short, so the test does not wait the default 10 s. */
const leaseMs = 1_500;

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startLocalCluster({
    brokers: 2,
    coordinatorArgs: ['--metrics-port', '0', '--broker-lease-ms', String(leaseMs)],
    brokerArgs: ['--heartbeat-interval-ms', '300'],
  });
}, 120_000);

afterAll(async () => {
  await cluster.destroy();
});

async function scrape(): Promise<Exposition> {
  const url = cluster.coordinator.metricsUrl;
  if (url === undefined) throw new Error(`the coordinator logged no metrics URL:\n${cluster.coordinator.logs}`);
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

const value = (exposition: Exposition, name: string, labels: Record<string, string> = {}): number[] => samplesOf(exposition, name, labels).map((s) => s.value);

describe("the coordinator's Prometheus endpoint", () => {
  it('reports leadership, brokers, partitions by availability, topics, subscriptions and the metadata version', async () => {
    const admin = new Admin({ brokers: cluster.broker.address });
    await admin.createTopic('orders', { partitions: 4 });
    await admin.createSubscription('orders', 'billing');
    admin.close();

    const healthy = await scrape();
    expect(samplesOf(healthy, 'target_info', { service_name: 'braid-coordinator' })).toHaveLength(1);
    expect(value(healthy, 'braid_coordinator_leader')).toEqual([1]);
    expect(value(healthy, 'braid_coordinator_brokers', { braid_broker_state: 'live' })).toEqual([2]);
    expect(value(healthy, 'braid_coordinator_brokers', { braid_broker_state: 'down' })).toEqual([0]);
    expect(value(healthy, 'braid_coordinator_partitions', { braid_partition_state: 'available' })).toEqual([4]);
    expect(value(healthy, 'braid_coordinator_partitions', { braid_partition_state: 'unavailable' })).toEqual([0]);
    expect(value(healthy, 'braid_coordinator_topics')).toEqual([1]);
    expect(value(healthy, 'braid_coordinator_subscriptions')).toEqual([1]);
    const version = sumOf(healthy, 'braid_coordinator_metadata_version');
    expect(version).toBeGreaterThan(0);

    // The topic spreads 2/2 over the brokers: killing one takes its two partitions.
    await cluster.brokers[1]?.kill9();
    await expect
      .poll(async () => {
        const exposition = await scrape();
        return [
          value(exposition, 'braid_coordinator_brokers', { braid_broker_state: 'down' }),
          value(exposition, 'braid_coordinator_partitions', { braid_partition_state: 'unavailable' }),
          value(exposition, 'braid_coordinator_partitions', { braid_partition_state: 'available' }),
        ];
      }, { timeout: leaseMs * 6, interval: 100 })
      .toEqual([[1], [2], [2]]);
    expect(sumOf(await scrape(), 'braid_coordinator_metadata_version')).toBeGreaterThan(version);
  }, 60_000);
});
