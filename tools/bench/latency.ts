/**
 * `bench latency`: open-loop publishing at a fixed rate (a timer sends the
 * records that are due, never waiting for acknowledgements) while one
 * `Consumer` handles them with `run()`; reports publish-to-handler latency
 * percentiles and the delivery checks.
 *
 * Each record carries a header with `performance.now()` taken just before
 * its `send()`; the handler subtracts it from `performance.now()` when it is
 * called (producer and consumer share this process and its clock). The
 * latency therefore includes lingering in the producer, the publish, the
 * append, the delivery and the consumer's queue.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Producer } from '@braid/client';
import { Durability } from '@braid/client';
import { startCheckedConsumer } from './checked-consumer.js';
import type { BenchMode, CheckedConsumer } from './checked-consumer.js';
import { brokersPeakRssBytes, startCluster } from './cluster.js';
import { withBenchSession } from './bench-session.js';
import { PublishedRecords, formatChecks } from './delivery-checks.js';
import type { DeliveryCounts } from './delivery-checks.js';
import { brokerRows, formatRows, machineInfo, machineRow } from './report.js';
import type { MachineInfo } from './report.js';
import { grouped, median, ms, quantile, sumKnown } from './stats.js';
import { keyBytes, workload } from './workload.js';
import type { RecordFactory } from './workload.js';

/** Header carrying the send time (`performance.now()`, ms). */
const sentAtHeader = 'bench-sent-at';

/** Settings of one `bench latency`. */
export interface LatencyBenchOptions {
  /** Offered load, records/s. */
  rate: number;
  /** Measured publishing time per run, in s. */
  seconds: number;
  /** Publishing before the measured time, in s (its records are checked, not timed). */
  warmupSeconds: number;
  size: number;
  keys: number;
  partitions: number;
  durability: 'fsync' | 'write';
  mode: BenchMode;
  prefetch: number;
  concurrency: number;
  /** Producer `lingerMs`. */
  lingerMs: number;
  /** Give up waiting for deliveries after this long without a new one, in ms. */
  idleMs: number;
  runs: number;
  /** Brokers in the cluster (default 1). */
  brokers: number;
}

/** Figures of one measured run. */
export interface LatencyRunFigures {
  /** Records sent per second over the whole run (warm-up included). */
  achievedRate: number;
  /** Timed records (first deliveries of the records after the warm-up's). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  checks: DeliveryCounts;
}

/** Everything `bench latency` measured. */
export interface LatencyReport {
  options: LatencyBenchOptions;
  machine: MachineInfo;
  startedAt: string;
  runs: LatencyRunFigures[];
  median: { p50Ms: number; p99Ms: number; p999Ms: number; maxMs: number; achievedRate: number };
  /** Each broker's name and peak RSS. */
  brokers: { name: string; peakRssBytes: number | undefined }[];
  /** Peak RSS summed over the brokers. */
  brokerPeakRssBytes: number | undefined;
}

/**
 * Sends `rate` records/s for `seconds`: every millisecond-ish tick sends
 * what is due by then (catching up after a late tick), without waiting for
 * acknowledgements or buffer room. Resolves when all are acknowledged, with
 * the number sent; rejects with the first failure. Records from number
 * `untimed` on carry the send-time header.
 */
async function publishOpenLoop(
  producer: Producer,
  topic: string,
  rate: number,
  seconds: number,
  untimed: number,
  recordAt: RecordFactory,
  published: PublishedRecords,
): Promise<number> {
  const total = Math.round(rate * seconds);
  let failure: Error | undefined;
  let sent = 0;
  const started = performance.now();
  while (sent < total && failure === undefined) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000));
    for (; sent < due; sent++) {
      const record = sent < untimed ? recordAt(sent) : recordAt(sent, { [sentAtHeader]: String(performance.now()) });
      producer.send(topic, record).then(
        ({ partition, offset }) => {
          published.add(partition, offset);
        },
        (error: unknown) => {
          failure ??= error instanceof Error ? error : new Error(String(error));
        },
      );
    }
    await sleep(1);
  }
  await producer.flush();
  if (failure !== undefined) throw failure;
  return sent;
}

async function measureRun(options: LatencyBenchOptions, admin: Admin, producer: Producer, brokerAddress: string, recordAt: RecordFactory, run: number): Promise<LatencyRunFigures> {
  const topic = `bench-latency-${Date.now()}-${run}`;
  await admin.createTopic(topic, {
    partitions: options.partitions,
    durability: options.durability === 'fsync' ? Durability.DURABILITY_FSYNC : Durability.DURABILITY_WRITE,
  });
  const published = new PublishedRecords();
  const latencies: number[] = [];
  let consumer: CheckedConsumer | undefined;
  try {
    consumer = await startCheckedConsumer({
      brokerAddress,
      topic,
      subscription: 'bench-latency',
      mode: options.mode,
      prefetch: options.prefetch,
      concurrency: options.concurrency,
      published,
      onMessage: (message, receivedAt) => {
        const sentAt = message.headers[sentAtHeader];
        if (message.attempt === 1 && sentAt !== undefined) latencies.push(receivedAt - Number(sentAt));
      },
    });
    const started = performance.now();
    const untimed = Math.round(options.rate * options.warmupSeconds);
    const sent = await publishOpenLoop(producer, topic, options.rate, options.warmupSeconds + options.seconds, untimed, recordAt, published);
    const achievedRate = sent / ((performance.now() - started) / 1000);
    await Promise.race([consumer.checker.whenDelivered(published.size, options.idleMs), consumer.running]);
    await sleep(1000); // stray redeliveries show up as duplicates
    const sorted = Float64Array.from(latencies).sort();
    return {
      achievedRate,
      samples: sorted.length,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      p999Ms: quantile(sorted, 0.999),
      maxMs: quantile(sorted, 1),
      checks: consumer.checker.counts(),
    };
  } finally {
    await consumer?.close();
    await admin.deleteTopic(topic).catch(() => undefined);
  }
}

/** Runs the benchmark on a fresh coordinator + broker. */
export async function benchLatency(options: LatencyBenchOptions): Promise<LatencyReport> {
  const startedAt = new Date().toISOString();
  const cluster = await startCluster({ brokers: options.brokers });
  return withBenchSession(cluster, { lingerMs: options.lingerMs }, async ({ admin, producer }) => {
    const recordAt = workload(options.size, options.keys);
    const runs: LatencyRunFigures[] = [];
    for (let run = 0; run < options.runs; run++) runs.push(await measureRun(options, admin, producer, cluster.brokerAddress, recordAt, run));
    const peakRss = brokersPeakRssBytes(cluster);
    return {
      options,
      machine: machineInfo(),
      startedAt,
      runs,
      median: {
        p50Ms: median(runs.map((r) => r.p50Ms)),
        p99Ms: median(runs.map((r) => r.p99Ms)),
        p999Ms: median(runs.map((r) => r.p999Ms)),
        maxMs: median(runs.map((r) => r.maxMs)),
        achievedRate: median(runs.map((r) => r.achievedRate)),
      },
      brokers: cluster.brokerNames.map((name, b) => ({ name, peakRssBytes: peakRss[b] })),
      brokerPeakRssBytes: sumKnown(peakRss),
    };
  });
}

/** The report as lines a human can quote. */
export function formatLatencyReport(report: LatencyReport): string {
  const o = report.options;
  const keys = o.keys > 0 ? `${keyBytes} B keys (${grouped(o.keys)} distinct)` : 'no keys (round-robin)';
  const rows: [string, string][] = [
    machineRow(report.machine),
    ['workload', `${grouped(o.rate)} records/s open loop for ${o.seconds} s (+${o.warmupSeconds} s warm-up, not timed) x ${o.runs} run${o.runs === 1 ? '' : 's'}, ${o.size} B values, ${keys}, ${o.partitions} partitions, durability ${o.durability}`],
    ['consumer', `1 subscription (${o.mode}), run() concurrency ${o.concurrency}, prefetch ${grouped(o.prefetch)}, ack on return`],
    ['producer', `lingerMs ${o.lingerMs}, SDK defaults otherwise; timer-driven sends, no waiting for acks`],
  ];
  for (const [i, r] of report.runs.entries()) {
    rows.push([`run ${i + 1}`, `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, p999 ${ms(r.p999Ms)}, max ${ms(r.maxMs)} (${grouped(r.samples)} samples, ${grouped(r.achievedRate)} records/s sent)`]);
  }
  const med = report.runs.length > 1 ? ' (median)' : '';
  const m = report.median;
  rows.push([`latency${med}`, `p50 ${ms(m.p50Ms)}, p99 ${ms(m.p99Ms)}, p999 ${ms(m.p999Ms)}, max ${ms(m.maxMs)} (header set before send() to handler called)`]);
  rows.push([`offered${med}`, `${grouped(m.achievedRate)} records/s sent`]);
  for (const [i, r] of report.runs.entries()) rows.push([report.runs.length === 1 ? 'checks' : `checks run ${i + 1}`, formatChecks(r.checks)]);
  rows.push(...brokerRows(report.brokers.map((b) => b.name), report.brokers.map((b) => b.peakRssBytes)));
  return formatRows(`braid bench latency, ${report.startedAt}`, rows);
}
