/**
 * `bench delayed`: what a broker holds for many pending delayed records.
 * Publishes `--records` records with a delivery time a day away through the
 * SDK `Producer`, with a `Consumer` connected to a subscription so that the
 * broker's dispatch reads every one of them and parks it on the durable
 * timers, then waits until the subscription reports them all pending and
 * prints the broker's peak RSS (`VmHWM`, reached while it took in and parked
 * them) and how long parking took; then, after `--rest-ms` with nothing
 * happening, its RSS (`VmRSS`) and V8 heap in use: what holding them
 * pending costs. Nothing is delivered (the records are not due).
 */
import { Consumer, Durability, StartPosition, SubscriptionMode } from '@braid/client';
import { withBenchSession } from './bench-session.js';
import { publishTracked } from './consume-throughput.js';
import { PublishedRecords } from './delivery-checks.js';
import { currentRssBytes, peakRssBytes, startCluster } from './cluster.js';
import { formatRows, machineInfo, machineRow } from './report.js';
import type { MachineInfo } from './report.js';
import { grouped, mib } from './stats.js';
import { workload } from './workload.js';

/** Settings of `bench delayed`. */
export interface DelayedBenchOptions {
  /** Delayed records to publish. */
  records: number;
  /** Value size in bytes. */
  size: number;
  /** Distinct keys (0: keyless). */
  keys: number;
  /** Partitions of the topic. */
  partitions: number;
  /** Give up waiting for the broker to park them all after this long, in ms. */
  timeoutMs: number;
  /** How long to wait, once all are pending, before reading the broker's memory at rest, in ms. */
  restMs: number;
}

/** What `bench delayed` measured. */
export interface DelayedReport {
  command: string;
  options: DelayedBenchOptions;
  machine: MachineInfo;
  startedAt: string;
  /** Records the subscription reported pending at the end. */
  pending: number;
  /** First `send()` to all records acknowledged, in s. */
  publishSeconds: number;
  /** First `send()` to all records reported pending by the broker, in s. */
  parkedSeconds: number;
  brokerPeakRssBytes: number | undefined;
  /** Broker RSS after `restMs` with all records pending. */
  brokerRestRssBytes: number | undefined;
  /** Broker V8 heap in use then (live objects plus garbage not yet collected). */
  brokerRestHeapUsedBytes: number;
}

/** Runs the benchmark on a fresh coordinator + broker. */
export async function benchDelayed(command: string, options: DelayedBenchOptions): Promise<DelayedReport> {
  const startedAt = new Date().toISOString();
  const cluster = await startCluster();
  return withBenchSession(cluster, { maxInFlightBytes: 16 * 1024 * 1024 }, async ({ admin, producer }) => {
    const topic = `bench-delayed-${Date.now()}`;
    const subscription = 'reminders';
    await admin.createTopic(topic, { partitions: options.partitions, durability: Durability.DURABILITY_WRITE });
    const consumer = new Consumer({
      brokers: cluster.brokerAddress,
      topic,
      subscription,
      createIfMissing: true,
      settings: { mode: SubscriptionMode.SUBSCRIPTION_MODE_PARTITIONED, startPosition: StartPosition.START_POSITION_EARLIEST },
    });
    await consumer.connect();
    const running = consumer.run(() => {
      throw new Error('bench delayed: no record should be due');
    });
    running.catch(() => undefined);
    try {
      const recordAt = workload(options.size, options.keys);
      const deliverAt = Date.now() + 86_400_000;
      const started = performance.now();
      const lastAck = await publishTracked(producer, topic, options.records, (i) => ({ ...recordAt(i), deliverAt }), new PublishedRecords());
      const publishSeconds = (lastAck - started) / 1000;
      const deadline = Date.now() + options.timeoutMs;
      let pending = 0;
      for (;;) {
        const described = await admin.describeSubscription(topic, subscription);
        pending = described.partitions.reduce((sum, p) => sum + p.pendingRetries, 0);
        if (pending >= options.records || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const parkedSeconds = (performance.now() - started) / 1000;
      const brokerPeakRssBytes = cluster.broker ? peakRssBytes(cluster.broker.pid) : undefined;
      await new Promise((resolve) => setTimeout(resolve, options.restMs));
      const atRest = await admin.describeBroker();
      return {
        command,
        options,
        machine: machineInfo(),
        startedAt,
        pending,
        publishSeconds,
        parkedSeconds,
        brokerPeakRssBytes,
        brokerRestRssBytes: cluster.broker ? currentRssBytes(cluster.broker.pid) : undefined,
        brokerRestHeapUsedBytes: atRest.memory?.heapUsedBytes ?? 0,
      };
    } finally {
      await consumer.close({ timeoutMs: 5_000 });
    }
  });
}

/** The report as text. */
export function formatDelayedReport(report: DelayedReport): string {
  const o = report.options;
  return formatRows(`braid bench ${report.command}, ${report.startedAt}`, [
    machineRow(report.machine),
    ['workload', `${grouped(o.records)} records delayed by a day, ${o.size} B values, ${o.keys === 0 ? 'no keys' : `${grouped(o.keys)} keys`}, ${o.partitions} partitions`],
    ['published', `${report.publishSeconds.toFixed(1)} s`],
    ['parked', `${grouped(report.pending)} of ${grouped(o.records)} reported pending after ${report.parkedSeconds.toFixed(1)} s`],
    ['broker', `peak RSS ${mib(report.brokerPeakRssBytes)} (VmHWM) while taking them in and parking them`],
    ['at rest', `RSS ${mib(report.brokerRestRssBytes)} (VmRSS), V8 heap in use ${mib(report.brokerRestHeapUsedBytes)}, ${(o.restMs / 1000).toFixed(0)} s after all were pending`],
  ]);
}
