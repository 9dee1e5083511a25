/**
 * `bench publish`: publishes records through the SDK `Producer` to a real
 * broker and reports acknowledged records/s, MB/s, ack latency percentiles
 * and the broker's peak RSS and CPU.
 *
 * Ack latency is measured per record, from the `send()` call to its
 * acknowledgement, so it includes the time a record waits in the
 * producer's buffer: at full speed (no `--rate`) it grows with
 * `--buffer-bytes`; with `--rate` below the maximum it shows the latency at
 * that load.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { Durability } from '@braid/client';
import type { Producer, ProducerRecord } from '@braid/client';
import { brokersCpuSeconds, brokersPeakRssBytes, externalCluster, peakRssBytes, startCluster } from './cluster.js';
import { withBenchSession } from './bench-session.js';
import type { BenchCluster } from './cluster.js';
import { brokerRows } from './report.js';
import { grouped, median, mib, ms, quantile, sumKnown } from './stats.js';

/** Settings of one `bench publish`. */
export interface PublishBenchOptions {
  /** Records per measured run. */
  records: number;
  /** Value size in bytes. */
  size: number;
  /** Distinct keys (10-byte keys); 0 sends keyless records (round-robin). */
  keys: number;
  /** Partitions of the topic. */
  partitions: number;
  /** The topic's durability. */
  durability: 'fsync' | 'write';
  /** Producer `lingerMs`. */
  lingerMs: number;
  /** Producer `maxBatchRecords`. */
  batchRecords: number;
  /** Producer `maxBatchBytes`. */
  batchBytes: number;
  /** Producer `maxInFlightBytes` (its buffer). */
  bufferBytes: number;
  /** Producer `maxInFlightRequestsPerPartition`. */
  inFlight: number;
  /** Offered load in records/s; 0 publishes as fast as acknowledgements allow. */
  rate: number;
  /** Unmeasured records published before each run (JIT, connections, RocksDB). */
  warmup: number;
  /** Measured runs; the report gives each and their median. */
  runs: number;
  /** Brokers to start (default 1); the producer bootstraps from the first. */
  brokers: number;
  /** Use this running broker instead of starting coordinator + broker (no broker RSS/CPU then). */
  broker: string | undefined;
}

/** Figures of one measured run. */
export interface RunFigures {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  /** CPU cores used by all brokers together during the run. */
  brokerCpuCores: number | undefined;
  producerCpuCores: number;
}

/** Everything `bench publish` measured. */
export interface PublishReport {
  options: PublishBenchOptions;
  machine: { cpus: number; cpuModel: string; memoryBytes: number; node: string; platform: string };
  startedAt: string;
  runs: RunFigures[];
  median: Omit<RunFigures, 'records' | 'seconds'>;
  /** Each broker's name and peak RSS (none for an external broker). */
  brokers: { name: string; peakRssBytes: number | undefined }[];
  /** Peak RSS summed over the brokers. */
  brokerPeakRssBytes: number | undefined;
  coordinatorPeakRssBytes: number | undefined;
  producerPeakRssBytes: number;
}

const keyBytes = 10;

function keyOf(i: number): Buffer {
  return Buffer.from(`key-${String(i).padStart(keyBytes - 4, '0')}`);
}

/**
 * Publishes `count` records and waits until all are acknowledged, yielding
 * to the event loop every 128 records (so the producer's I/O runs) and
 * holding back while its buffer is full. Rejects with the first failure.
 */
async function publish(
  producer: Producer,
  topic: string,
  count: number,
  recordAt: (i: number) => ProducerRecord,
  rate: number,
  latencies: Float64Array | undefined,
): Promise<void> {
  let failure: Error | undefined;
  const started = performance.now();
  for (let i = 0; i < count && failure === undefined; i++) {
    const sentAt = performance.now();
    producer.send(topic, recordAt(i)).then(
      () => {
        if (latencies) latencies[i] = performance.now() - sentAt;
      },
      (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    if ((i & 127) === 127) {
      await producer.ready();
      const wait = rate > 0 ? started + ((i + 1) / rate) * 1000 - performance.now() : 0;
      if (wait >= 1) await sleep(wait);
      else await yieldToEventLoop();
    }
  }
  await producer.flush();
  if (failure !== undefined) throw failure;
}

/** Runs the benchmark. */
export async function benchPublish(options: PublishBenchOptions): Promise<PublishReport> {
  const startedAt = new Date().toISOString();
  const cluster: BenchCluster = options.broker ? externalCluster(options.broker) : await startCluster({ brokers: options.brokers });
  return withBenchSession(cluster, {
    lingerMs: options.lingerMs,
    maxBatchRecords: options.batchRecords,
    maxBatchBytes: options.batchBytes,
    maxInFlightBytes: options.bufferBytes,
    maxInFlightRequestsPerPartition: options.inFlight,
  }, async ({ admin, producer }) => {
    const values = Array.from({ length: 1024 }, () => randomBytes(options.size));
    const keys = Array.from({ length: options.keys }, (_, i) => keyOf(i));
    const recordAt = (i: number): ProducerRecord => ({ key: keys.length > 0 ? keys[i % keys.length] : undefined, value: values[i % values.length] ?? Buffer.alloc(0) });
    const payloadBytes = options.size + (options.keys > 0 ? keyBytes : 0);
    const runs: RunFigures[] = [];
    for (let run = 0; run < options.runs; run++) {
      const topic = `bench-${Date.now()}-${run}`;
      await admin.createTopic(topic, {
        partitions: options.partitions,
        durability: options.durability === 'fsync' ? Durability.DURABILITY_FSYNC : Durability.DURABILITY_WRITE,
      });
      await publish(producer, topic, options.warmup, recordAt, 0, undefined);

      const latencies = new Float64Array(options.records);
      const brokerCpu = sumKnown(brokersCpuSeconds(cluster));
      const producerCpu = process.cpuUsage();
      const started = performance.now();
      await publish(producer, topic, options.records, (i) => recordAt(i + options.warmup), options.rate, latencies);
      const seconds = (performance.now() - started) / 1000;
      const producerCpuUsed = process.cpuUsage(producerCpu);
      const brokerCpuAfter = sumKnown(brokersCpuSeconds(cluster));

      latencies.sort();
      runs.push({
        records: options.records,
        seconds,
        recordsPerSecond: options.records / seconds,
        megabytesPerSecond: (options.records * payloadBytes) / seconds / 1e6,
        latencyP50Ms: quantile(latencies, 0.5),
        latencyP99Ms: quantile(latencies, 0.99),
        latencyMaxMs: quantile(latencies, 1),
        brokerCpuCores: brokerCpu === undefined || brokerCpuAfter === undefined ? undefined : (brokerCpuAfter - brokerCpu) / seconds,
        producerCpuCores: (producerCpuUsed.user + producerCpuUsed.system) / 1e6 / seconds,
      });
      await admin.deleteTopic(topic).catch(() => undefined);
    }
    const brokerCpus = runs.map((r) => r.brokerCpuCores).filter((c): c is number => c !== undefined);
    const peakRss = brokersPeakRssBytes(cluster);
    return {
      options,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryBytes: totalmem(),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
      },
      startedAt,
      runs,
      median: {
        recordsPerSecond: median(runs.map((r) => r.recordsPerSecond)),
        megabytesPerSecond: median(runs.map((r) => r.megabytesPerSecond)),
        latencyP50Ms: median(runs.map((r) => r.latencyP50Ms)),
        latencyP99Ms: median(runs.map((r) => r.latencyP99Ms)),
        latencyMaxMs: median(runs.map((r) => r.latencyMaxMs)),
        brokerCpuCores: brokerCpus.length > 0 ? median(brokerCpus) : undefined,
        producerCpuCores: median(runs.map((r) => r.producerCpuCores)),
      },
      brokers: cluster.brokerNames.map((name, b) => ({ name, peakRssBytes: peakRss[b] })),
      brokerPeakRssBytes: sumKnown(peakRss),
      coordinatorPeakRssBytes: cluster.coordinator ? peakRssBytes(cluster.coordinator.pid) : undefined,
      producerPeakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  });
}

function cores(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${value.toFixed(2)} cores`;
}

/** The report as lines a human can quote. */
export function formatReport(report: PublishReport): string {
  const o = report.options;
  const m = report.median;
  const keys = o.keys > 0 ? `${keyBytes} B keys (${grouped(o.keys)} distinct)` : 'no keys (round-robin)';
  const rows: [string, string][] = [
    ['machine', `${report.machine.cpus} CPUs (${report.machine.cpuModel}), ${mib(report.machine.memoryBytes)} RAM, Node ${report.machine.node}, ${report.machine.platform}`],
    ['workload', `${grouped(o.records)} records x ${o.runs} run${o.runs === 1 ? '' : 's'} (+${grouped(o.warmup)} warm-up each), ${o.size} B values, ${keys}, ${o.partitions} partitions, durability ${o.durability}`],
    ['offered load', o.rate > 0 ? `${grouped(o.rate)} records/s` : 'as fast as acknowledgements allow'],
    ['producer', `lingerMs ${o.lingerMs}, maxBatchRecords ${o.batchRecords}, maxBatchBytes ${mib(o.batchBytes)}, buffer ${mib(o.bufferBytes)}, ${o.inFlight} in flight/partition, idempotent`],
    [
      'broker',
      o.broker
        ? `external ${o.broker}`
        : `coordinator + ${o.brokers === 1 ? 'broker' : `${o.brokers} brokers (the producer bootstraps from the first)`} from their bundles (dist/apps), embedded storage in a temp dir`,
    ],
  ];
  for (const [i, r] of report.runs.entries()) {
    rows.push([
      `run ${i + 1}`,
      `${grouped(r.recordsPerSecond)} records/s, ${r.megabytesPerSecond.toFixed(1)} MB/s, p50 ${ms(r.latencyP50Ms)}, p99 ${ms(r.latencyP99Ms)} (${r.seconds.toFixed(2)} s)`,
    ]);
  }
  const median = report.runs.length > 1 ? ' (median)' : '';
  rows.push(
    [`throughput${median}`, `${grouped(m.recordsPerSecond)} records/s acknowledged, ${m.megabytesPerSecond.toFixed(1)} MB/s (key + value bytes)`],
    [
      `ack latency${median}`,
      `p50 ${ms(m.latencyP50Ms)}, p99 ${ms(m.latencyP99Ms)}, max ${ms(m.latencyMaxMs)}` +
        (o.rate > 0 ? '' : ' (send() to ack, including time queued in the full buffer; --rate N measures latency at a given load)'),
    ],
    ...brokerRows(report.brokers.map((b) => b.name), report.brokers.map((b) => b.peakRssBytes)),
    [report.brokers.length > 1 ? 'brokers CPU' : 'broker CPU', cores(m.brokerCpuCores)],
    ['producer', `peak RSS ${mib(report.producerPeakRssBytes)}, CPU ${cores(m.producerCpuCores)}`],
  );
  if (report.coordinatorPeakRssBytes !== undefined) rows.push(['coordinator', `peak RSS ${mib(report.coordinatorPeakRssBytes)}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`braid bench publish, ${report.startedAt}`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)].join('\n') + '\n';
}
