/**
 * `bench throughput` and `bench fanout`: publishes records through the SDK
 * `Producer` while one `Consumer` per subscription handles and acknowledges
 * them with `run()`, and reports
 *
 * - publish throughput: records acknowledged to the producer per second,
 *   first `send()` to the last acknowledgement;
 * - end-to-end throughput per subscription: records delivered and handled
 *   (the handler returns, which acks) per second, first `send()` to the
 *   handling of the last missing record;
 * - the delivery checks (lost, duplicates, per-key out-of-order), each
 *   broker's peak RSS and CPU, and with several brokers how the partitions'
 *   leaders were spread over them.
 *
 * Producer and consumers are given only the first broker's address; the
 * SDK learns the others from its metadata and routes every partition to
 * its leader, as an application would.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Admin, Producer } from '@braid/client';
import { Durability } from '@braid/client';
import { startCheckedConsumer } from './checked-consumer.js';
import type { BenchMode, CheckedConsumer, RetryOrderName } from './checked-consumer.js';
import { brokersCpuSeconds, brokersPeakRssBytes, coresBetween, startCluster } from './cluster.js';
import { startBenchTracing } from './tracing.js';
import type { BenchCluster } from './cluster.js';
import { withBenchSession } from './bench-session.js';
import { PublishedRecords, formatChecks } from './delivery-checks.js';
import type { DeliveryCounts } from './delivery-checks.js';
import { brokerRows, formatLeaders, formatRows, machineInfo, machineRow } from './report.js';
import type { MachineInfo } from './report.js';
import { grouped, median, mib, sumKnown } from './stats.js';
import { keyBytes, workload } from './workload.js';
import type { RecordFactory } from './workload.js';

/** Settings of one `bench throughput` / `bench fanout`. */
export interface ThroughputBenchOptions {
  /** Records per measured run. */
  records: number;
  /** Value size in bytes. */
  size: number;
  /** Distinct 10-byte keys; 0 publishes keyless records (round-robin). */
  keys: number;
  /** Partitions of the topic. */
  partitions: number;
  /** The topic's durability. */
  durability: 'fsync' | 'write';
  /** Subscriptions, each with one consumer. */
  subscriptions: number;
  /** Subscription mode. */
  mode: BenchMode;
  /** Consumer `prefetchRecords`. */
  prefetch: number;
  /** `run()` concurrency. */
  concurrency: number;
  /** Producer `maxInFlightBytes`. */
  bufferBytes: number;
  /** Give up waiting for deliveries after this long without a new one, in ms. */
  idleMs: number;
  /** Measured runs (fresh topic and subscriptions each). */
  runs: number;
  /** Fraction of records whose first attempt the handler fails. */
  failRatio: number;
  /** `retry_order` of the subscriptions. */
  retryOrder: RetryOrderName;
  /** Brokers in the cluster (default 1). */
  brokers: number;
  /** Trace this fraction of records (bench process and brokers, OTLP to a local sink); undefined: tracing off. */
  traceSample?: number | undefined;
  /**
   * Publish every record before the consumers start and time only their
   * consumption (a backlog, read from storage), instead of consuming while
   * publishing.
   */
  backlog?: boolean | undefined;
}

/** What one subscription got in one run. */
export interface SubscriptionFigures {
  subscription: string;
  /** First `send()` (with a backlog: the consumers' start) to the handling of the last missing record, in s. */
  seconds: number;
  /** Delivered and acknowledged records per second. */
  recordsPerSecond: number;
  checks: DeliveryCounts;
}

/** Figures of one measured run. */
export interface ThroughputRunFigures {
  /** First `send()` to the last producer acknowledgement, in s. */
  publishSeconds: number;
  /** Records acknowledged to the producer per second. */
  publishRecordsPerSecond: number;
  subscriptions: SubscriptionFigures[];
  /** CPU cores each broker used, first `send()` (with a backlog: the consumers' start) to the last record handled. */
  brokerCpuCores: (number | undefined)[];
  /** CPU cores this process (producer and consumers) used over the same time. */
  clientCpuCores: number;
  /** Partitions of the run's topic led by each broker id (at the end of the run). */
  leaders: Record<string, number>;
}

/** Everything `bench throughput` / `fanout` measured. */
export interface ThroughputReport {
  command: string;
  options: ThroughputBenchOptions;
  machine: MachineInfo;
  startedAt: string;
  runs: ThroughputRunFigures[];
  median: { publishRecordsPerSecond: number; endToEndRecordsPerSecond: number[] };
  /** Checks summed over the runs, per subscription. */
  checks: DeliveryCounts[];
  /** Each broker: name (its id with several), peak RSS, median CPU cores over the runs. */
  brokers: { name: string; peakRssBytes: number | undefined; cpuCores: number | undefined }[];
  /** Peak RSS summed over the brokers. */
  brokerPeakRssBytes: number | undefined;
  /** CPU cores the bench process (producer and consumers) used, median over the runs. */
  clientCpuCores: number;
  /** With `--trace-sample`: the ratio and what the sink received. */
  tracing?: { sample: number; requests: number; bytes: number };
}

/**
 * Publishes `count` records, noting each acknowledged `(partition, offset)`
 * in `published`; yields every 128 records and holds back while the
 * producer's buffer is full. Resolves with `performance.now()` of the last
 * acknowledgement; rejects with the first failure.
 */
export async function publishTracked(
  producer: Producer,
  topic: string,
  count: number,
  recordAt: RecordFactory,
  published: PublishedRecords,
): Promise<number> {
  let failure: Error | undefined;
  let lastAck = performance.now();
  for (let i = 0; i < count && failure === undefined; i++) {
    producer.send(topic, recordAt(i)).then(
      ({ partition, offset }) => {
        published.add(partition, offset);
        lastAck = performance.now();
      },
      (error: unknown) => {
        failure ??= error instanceof Error ? error : new Error(String(error));
      },
    );
    if ((i & 127) === 127) {
      await producer.ready();
      await yieldToEventLoop();
    }
  }
  await producer.flush();
  if (failure !== undefined) throw failure;
  return lastAck;
}

async function measureRun(
  options: ThroughputBenchOptions,
  admin: Admin,
  producer: Producer,
  cluster: BenchCluster,
  recordAt: RecordFactory,
  run: number,
): Promise<ThroughputRunFigures> {
  const topic = `bench-consume-${Date.now()}-${run}`;
  await admin.createTopic(topic, {
    partitions: options.partitions,
    durability: options.durability === 'fsync' ? Durability.DURABILITY_FSYNC : Durability.DURABILITY_WRITE,
  });
  const published = new PublishedRecords();
  const consumers: CheckedConsumer[] = [];
  const startConsumers = async (): Promise<void> => {
    for (let s = 0; s < options.subscriptions; s++) {
      consumers.push(
        await startCheckedConsumer({
          brokerAddress: cluster.brokerAddress,
          topic,
          subscription: `bench-sub-${s}`,
          mode: options.mode,
          prefetch: options.prefetch,
          concurrency: options.concurrency,
          failRatio: options.failRatio,
          retryOrder: options.retryOrder,
          published,
        }),
      );
    }
  };
  try {
    let publishStarted = performance.now();
    const backlogAck = options.backlog ? await publishTracked(producer, topic, options.records, recordAt, published) : undefined;
    if (!options.backlog) await startConsumers();
    const cpuBefore = brokersCpuSeconds(cluster);
    const clientCpuBefore = process.cpuUsage();
    const started = performance.now();
    if (options.backlog) await startConsumers();
    else publishStarted = started;
    const lastAck = backlogAck ?? (await publishTracked(producer, topic, options.records, recordAt, published));
    await Promise.all(consumers.map((c) => Promise.race([c.checker.whenDelivered(published.size, options.idleMs), c.running])));
    const elapsedSeconds = (performance.now() - started) / 1000;
    const brokerCpuCores = coresBetween(cpuBefore, brokersCpuSeconds(cluster), elapsedSeconds);
    const clientCpu = process.cpuUsage(clientCpuBefore);
    const clientCpuCores = (clientCpu.user + clientCpu.system) / 1e6 / elapsedSeconds;
    const leaders: Record<string, number> = {};
    for (const partition of (await admin.describeTopic(topic)).partitions) leaders[partition.leaderId] = (leaders[partition.leaderId] ?? 0) + 1;
    // A moment for stray redeliveries to show up as duplicates (not timed).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const publishSeconds = (lastAck - publishStarted) / 1000;
    return {
      publishSeconds,
      publishRecordsPerSecond: published.size / publishSeconds,
      subscriptions: consumers.map((c, s) => {
        const checks = c.checker.counts();
        const seconds = ((c.checker.completedAt ?? c.checker.lastProgressAt) - started) / 1000;
        return { subscription: `bench-sub-${s}`, seconds, recordsPerSecond: checks.delivered / seconds, checks };
      }),
      brokerCpuCores,
      clientCpuCores,
      leaders,
    };
  } finally {
    await Promise.all(consumers.map((c) => c.close()));
    await admin.deleteTopic(topic).catch(() => undefined);
  }
}

function sumCounts(counts: readonly DeliveryCounts[]): DeliveryCounts {
  const total: DeliveryCounts = { published: 0, delivered: 0, lost: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 };
  for (const c of counts) {
    for (const field of Object.keys(total) as (keyof DeliveryCounts)[]) total[field] += c[field];
  }
  return total;
}

/** Runs the benchmark on a fresh coordinator + `options.brokers` brokers. */
export async function benchThroughput(command: string, options: ThroughputBenchOptions): Promise<ThroughputReport> {
  const startedAt = new Date().toISOString();
  const tracing = options.traceSample === undefined ? undefined : await startBenchTracing(options.traceSample);
  const cluster = await startCluster({ brokers: options.brokers, brokerEnv: tracing?.brokerEnv });
  const report: ThroughputReport = await withBenchSession(cluster, { maxInFlightBytes: options.bufferBytes }, async ({ admin, producer }): Promise<ThroughputReport> => {
    const recordAt = workload(options.size, options.keys);
    const runs: ThroughputRunFigures[] = [];
    for (let run = 0; run < options.runs; run++) {
      runs.push(await measureRun(options, admin, producer, cluster, recordAt, run));
    }
    const subscriptions = Array.from({ length: options.subscriptions }, (_, s) => s);
    const peakRss = brokersPeakRssBytes(cluster);
    return {
      command,
      options,
      machine: machineInfo(),
      startedAt,
      runs,
      median: {
        publishRecordsPerSecond: median(runs.map((r) => r.publishRecordsPerSecond)),
        endToEndRecordsPerSecond: subscriptions.map((s) => median(runs.map((r) => r.subscriptions[s]?.recordsPerSecond ?? Number.NaN))),
      },
      checks: subscriptions.map((s) => sumCounts(runs.flatMap((r) => r.subscriptions[s]?.checks ?? []))),
      brokers: cluster.brokerNames.map((name, b) => {
        const cores = runs.map((r) => r.brokerCpuCores[b]).filter((c): c is number => c !== undefined);
        return { name, peakRssBytes: peakRss[b], cpuCores: cores.length > 0 ? median(cores) : undefined };
      }),
      brokerPeakRssBytes: sumKnown(peakRss),
      clientCpuCores: median(runs.map((r) => r.clientCpuCores)),
    };
  });
  if (tracing) {
    await tracing.stop();
    report.tracing = { sample: options.traceSample ?? 0, ...tracing.received() };
  }
  return report;
}

/** The report as lines a human can quote. */
export function formatThroughputReport(report: ThroughputReport): string {
  const o = report.options;
  const keys = o.keys > 0 ? `${keyBytes} B keys (${grouped(o.keys)} distinct)` : 'no keys (round-robin)';
  const rows: [string, string][] = [
    machineRow(report.machine),
    ['workload', `${grouped(o.records)} records x ${o.runs} run${o.runs === 1 ? '' : 's'}, ${o.size} B values, ${keys}, ${o.partitions} partitions, durability ${o.durability}`],
    ['consumers', `${o.subscriptions} subscription${o.subscriptions === 1 ? '' : 's'} (${o.mode}, from earliest), one Consumer each: run() concurrency ${o.concurrency}, prefetch ${grouped(o.prefetch)}, ack on return${o.failRatio > 0 ? `, ${(o.failRatio * 100).toFixed(0)}% of first attempts fail (retried, ${o.retryOrder === 'skip' ? 'SKIP' : 'BLOCK_KEY'})` : ''}`],
    [
      'producer',
      `SDK defaults, buffer ${mib(o.bufferBytes)}, ${o.backlog ? 'publishing every record before the consumers start (a backlog: end-to-end is timed from their start)' : 'publishing while the consumers consume'}`,
    ],
    [
      'tracing',
      report.tracing
        ? `on, ${(report.tracing.sample * 100).toString()}% of records sampled (parent-based), bench and brokers exporting OTLP/HTTP to a local sink: ${grouped(report.tracing.requests)} requests, ${mib(report.tracing.bytes)}`
        : 'off (no OpenTelemetry SDK registered)',
    ],
    [
      'cluster',
      `coordinator + ${o.brokers === 1 ? '1 broker' : `${o.brokers} brokers`} from their bundles (dist/apps), embedded storage in a temp dir` +
        (o.brokers > 1 ? `; producer and consumers bootstrap from ${report.brokers[0]?.name ?? 'the first broker'} only, the SDK routes each partition to its leader` : ''),
    ],
  ];
  for (const [i, r] of report.runs.entries()) {
    const perSub = r.subscriptions.map((s) => grouped(s.recordsPerSecond)).join(' / ');
    const leaders = o.brokers > 1 ? `; leaders ${formatLeaders(r.leaders)}` : '';
    rows.push([`run ${i + 1}`, `publish ${grouped(r.publishRecordsPerSecond)} records/s (${r.publishSeconds.toFixed(2)} s), end-to-end ${perSub} records/s${leaders}`]);
  }
  const med = report.runs.length > 1 ? ' (median)' : '';
  rows.push([`publish${med}`, `${grouped(report.median.publishRecordsPerSecond)} records/s acknowledged (first send() to last ack)`]);
  for (const [s, rate] of report.median.endToEndRecordsPerSecond.entries()) {
    const label = o.subscriptions === 1 ? `end-to-end${med}` : `bench-sub-${s}${med}`;
    rows.push([label, `${grouped(rate)} records/s delivered and acknowledged (${o.backlog ? 'consumers started' : 'first send()'} to last handled)`]);
  }
  for (const [s, checks] of report.checks.entries()) {
    rows.push([o.subscriptions === 1 ? 'checks' : `checks sub-${s}`, formatChecks(checks)]);
  }
  // CPU: first send() to the last record handled, median over the runs.
  rows.push(...brokerRows(report.brokers.map((b) => b.name), report.brokers.map((b) => b.peakRssBytes), report.brokers.map((b) => b.cpuCores)));
  rows.push(['bench client', `CPU ${report.clientCpuCores.toFixed(2)} cores (producer and consumers, this process)`]);
  return formatRows(`braid bench ${report.command}, ${report.startedAt}`, rows);
}
