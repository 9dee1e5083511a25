/**
 * Braid benchmarks: commands that print figures anyone can rerun (STYLE.md:
 * benchmarks are commands, not timed assertions in tests).
 *
 *   npm run bench -- publish --records 1000000 --durability write
 *   npm run bench -- throughput --records 200000
 *   npm run bench -- throughput --records 200000 --brokers 3
 *   npm run bench -- fanout --subscriptions 3
 *   npm run bench -- latency --rate 5000 --seconds 10
 *   npm run bench -- timers --pending 100000 --far 1000000
 *   npm run bench -- tracing-cost --rounds 5 --samples 0.01,1
 *   npm run bench -- retry-cost --rounds 5 --fail-ratio 0.1
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { producerDefaults } from '@braid/client';
import type { BenchMode, RetryOrderName } from './checked-consumer.js';
import { benchThroughput, formatThroughputReport } from './consume-throughput.js';
import { benchDelayed, formatDelayedReport } from './delayed.js';
import { benchLatency, formatLatencyReport } from './latency.js';
import { benchPublish, formatReport } from './publish.js';
import { benchTimers, formatTimersReport, timersBenchDefaults } from './timers.js';
import { benchVariantCost, formatVariantCostReport } from './variant-cost.js';
import type { Variant } from './variant-cost.js';

function count(min: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number >= ${min}.`);
    return n;
  };
}

interface PublishFlags {
  records: number;
  size: number;
  keys: number;
  partitions: number;
  durability: 'fsync' | 'write';
  lingerMs: number;
  batchRecords: number;
  batchBytes: number;
  bufferBytes: number;
  inFlight: number;
  rate: number;
  warmup?: number;
  runs: number;
  brokers: number;
  broker?: string;
  json?: boolean;
}

const program = new Command('bench').description('Braid benchmarks').showHelpAfterError();

program
  .command('publish')
  .description('publish through the SDK to a fresh coordinator + broker; print records/s, MB/s, ack latency and broker peak RSS')
  .option('--records <n>', 'records per measured run', count(1), 1_000_000)
  .option('--size <bytes>', 'value size', count(0), 256)
  .option('--keys <n>', 'distinct 10-byte keys (0: keyless, round-robin)', count(0), 1_000)
  .option('--partitions <n>', 'partitions of the topic', count(1), 8)
  .addOption(new Option('--durability <mode>', 'topic durability').choices(['fsync', 'write']).default('write'))
  .option('--linger-ms <ms>', 'producer lingerMs', count(0), producerDefaults.lingerMs)
  .option('--batch-records <n>', 'producer maxBatchRecords', count(1), producerDefaults.maxBatchRecords)
  .option('--batch-bytes <bytes>', 'producer maxBatchBytes', count(1), producerDefaults.maxBatchBytes)
  .option('--buffer-bytes <bytes>', 'producer maxInFlightBytes: room for a full pipeline (8 partitions x 5 batches x ~266 KB); bounds how long records queue', count(1), 16 * 1024 * 1024)
  .option('--in-flight <n>', 'producer maxInFlightRequestsPerPartition', count(1), producerDefaults.maxInFlightRequestsPerPartition)
  .option('--rate <records/s>', 'offered load; 0: as fast as possible', count(0), 0)
  .option('--warmup <n>', 'unmeasured records before each run (default: 10% of --records, at most 100000)', count(0))
  .option('--runs <n>', 'measured runs (reports each and the median)', count(1), 1)
  .option('--brokers <n>', 'brokers to start (the producer bootstraps from the first; the SDK routes to partition leaders)', count(1), 1)
  .option('--broker <host:port>', 'use a running broker instead of starting one (no broker RSS/CPU then)')
  .option('--json', 'print the report as JSON')
  .action(async (flags: PublishFlags) => {
    const report = await benchPublish({
      ...flags,
      warmup: flags.warmup ?? Math.min(100_000, Math.floor(flags.records / 10)),
      broker: flags.broker,
    });
    process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  });

interface ConsumeFlags {
  size: number;
  keys: number;
  partitions: number;
  durability: 'fsync' | 'write';
  mode: BenchMode;
  prefetch: number;
  concurrency: number;
  idleMs: number;
  runs: number;
  brokers: number;
  json?: boolean;
}

interface ThroughputFlags extends ConsumeFlags {
  records: number;
  subscriptions: number;
  bufferBytes: number;
  failRatio: number;
  retryOrder: RetryOrderName;
  backlog?: boolean;
}

interface LatencyFlags extends ConsumeFlags {
  rate: number;
  seconds: number;
  warmupSeconds: number;
  lingerMs: number;
}

/** The flags every consume benchmark takes. */
function consumeOptions(command: Command): Command {
  return command
    .option('--size <bytes>', 'value size', count(0), 256)
    .option('--keys <n>', 'distinct 10-byte keys (0: keyless, round-robin)', count(0), 1_000)
    .option('--partitions <n>', 'partitions of the topic', count(1), 8)
    .addOption(new Option('--durability <mode>', 'topic durability').choices(['fsync', 'write']).default('write'))
    .addOption(new Option('--mode <mode>', 'subscription mode').choices(['partitioned', 'key-shared']).default('partitioned'))
    .option('--prefetch <n>', 'consumer prefetchRecords', count(1), 1_000)
    .option('--concurrency <n>', 'run() concurrency (each key stays serial)', count(1), 16)
    .option('--idle-ms <ms>', 'stop waiting for deliveries after this long without one (the rest count as lost)', count(1), 30_000)
    .option('--runs <n>', 'measured runs, each on a fresh topic (reports each and the median)', count(1), 1)
    .option('--brokers <n>', 'brokers to start; producer and consumers bootstrap from the first, the SDK routes to partition leaders', count(1), 1)
    .option('--json', 'print the report as JSON');
}

/** Parses a fraction in [0, 1). */
function ratio(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed < 1)) throw new InvalidArgumentError(`expected a number in [0, 1), got ${value}`);
  return parsed;
}

function sampleRatio(value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError(`expected a number in [0, 1], got ${value}`);
  return parsed;
}

function throughputCommand(name: string, description: string, subscriptions: number): void {
  consumeOptions(
    program
      .command(name)
      .description(description)
      .option('--records <n>', 'records per measured run', count(1), 200_000)
      .option('--subscriptions <n>', 'subscriptions, one Consumer each', count(1), subscriptions)
      .option('--buffer-bytes <bytes>', 'producer maxInFlightBytes', count(1), 16 * 1024 * 1024)
      .option('--fail-ratio <r>', 'fraction of records whose first attempt the handler fails (nack, retried with the subscription backoff)', ratio, 0)
      .addOption(new Option('--retry-order <order>', 'retry_order of the subscription (with --fail-ratio)').choices(['block-key', 'skip']).default('block-key'))
      .option('--trace-sample <ratio>', 'turn tracing on in the bench process and the brokers, sampling this fraction of records (0-1), exporting OTLP/HTTP to a local sink', sampleRatio)
      .option('--backlog', 'publish every record first, then start the consumers and time only their consumption (the consume path alone)'),
  ).action(async (flags: ThroughputFlags) => {
    const { json, ...options } = flags;
    const report = await benchThroughput(name, options);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatThroughputReport(report));
  });
}

throughputCommand(
  'throughput',
  'publish while a Consumer handles and acks; print publish and end-to-end records/s, lost / duplicate / out-of-order counts and broker peak RSS',
  1,
);
throughputCommand('fanout', 'throughput with one Consumer on each of several subscriptions (default 3); end-to-end records/s per subscription', 3);

consumeOptions(
  program
    .command('latency')
    .description('open-loop publishing at a fixed rate; print publish-to-handler latency p50/p99/p999 and the delivery checks')
    .option('--rate <records/s>', 'offered load', count(1), 5_000)
    .option('--seconds <s>', 'measured publishing time', count(1), 10)
    .option('--warmup-seconds <s>', 'publishing before the measured time (checked, not timed)', count(0), 1)
    .option('--linger-ms <ms>', 'producer lingerMs', count(0), producerDefaults.lingerMs),
).action(async (flags: LatencyFlags) => {
  const { json, ...options } = flags;
  const report = await benchLatency(options);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatLatencyReport(report));
});

interface TimersFlags {
  pending: number;
  spreadMs: number;
  leadMs: number;
  far: number;
  windowMs: number;
  windowMax: number;
  json?: boolean;
}

program
  .command('timers')
  .description('the broker retry timers over RocksDB on the system clock: print timer lateness p50/p99/max, fired/s and peak RSS')
  .option('--pending <n>', 'retries that fall due during the run', count(1), timersBenchDefaults.pending)
  .option('--spread-ms <ms>', 'their due times spread over this long', count(0), timersBenchDefaults.spreadMs)
  .option('--lead-ms <ms>', 'from the start of the puts to the first due time', count(0), timersBenchDefaults.leadMs)
  .option('--far <n>', 'extra retries due in about a day (only in RocksDB; they never fire)', count(0), timersBenchDefaults.far)
  .option('--window-ms <ms>', 'RetryTimers windowMs', count(1), timersBenchDefaults.windowMs)
  .option('--window-max <n>', 'RetryTimers windowMax', count(1), timersBenchDefaults.windowMax)
  .option('--json', 'print the report as JSON')
  .action(async (flags: TimersFlags) => {
    const { json, ...options } = flags;
    const report = await benchTimers(options);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatTimersReport(report));
  });

program
  .command('delayed')
  .description('publish records delayed by a day with a consumer connected; print the broker peak RSS, and its RSS at rest once it holds them all pending')
  .option('--records <n>', 'delayed records', count(1), 1_000_000)
  .option('--size <bytes>', 'value size', count(0), 256)
  .option('--keys <n>', 'distinct 10-byte keys (0: keyless)', count(0), 1_000)
  .option('--partitions <n>', 'partitions of the topic', count(1), 8)
  .option('--timeout-ms <ms>', 'give up waiting for the broker to park them all after this long', count(1), 600_000)
  .option('--rest-ms <ms>', 'once all are pending, wait this long before reading the broker memory at rest', count(0), 10_000)
  .option('--json', 'print the report as JSON')
  .action(async (flags: { records: number; size: number; keys: number; partitions: number; timeoutMs: number; restMs: number; json?: boolean }) => {
    const { json, ...options } = flags;
    const report = await benchDelayed('delayed', options);
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatDelayedReport(report));
  });

/** Parses comma-separated sampling ratios. */
function sampleRatios(value: string): number[] {
  return value.split(',').map((part) => sampleRatio(part.trim()));
}

/** Runs `variants` of `bench throughput` alternately and prints the report. */
async function variantCost(command: string, variants: Variant[], flags: { rounds: number; records: number; runs: number; json?: boolean }): Promise<void> {
  const { json, ...rest } = flags;
  const report = await benchVariantCost({ command, variants, ...rest }, (line) => {
    if (!json) process.stdout.write(`${line}\n`);
  });
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatVariantCostReport(report));
}

function variantCostOptions(command: Command): Command {
  return command
    .option('--rounds <n>', 'rounds, each running every variant once', count(1), 5)
    .option('--records <n>', 'records per measured run', count(1), 200_000)
    .option('--runs <n>', 'measured runs per benchmark process (its median counts)', count(1), 3)
    .option('--json', 'print the report as JSON');
}

const percent = (ratio: number): string => `${+(ratio * 100).toFixed(3)}%`;

variantCostOptions(
  program
    .command('tracing-cost')
    .description('throughput without tracing and with each sampling ratio, alternating, each run in its own process; print the medians and their cost against off')
    .option('--samples <ratios>', 'comma-separated sampling ratios to compare with off', sampleRatios, [0.01]),
).action(async (flags: { rounds: number; samples: number[]; records: number; runs: number; json?: boolean }) => {
  const { samples, ...rest } = flags;
  await variantCost('tracing-cost', [{ label: 'off', args: [] }, ...samples.map((sample) => ({ label: percent(sample), args: ['--trace-sample', String(sample)] }))], rest);
});

variantCostOptions(
  program
    .command('retry-cost')
    .description('throughput without failures and with a share of first attempts failing (retried), alternating, each run in its own process; print the medians and the failing runs against the others')
    .option('--fail-ratio <ratio>', 'share of first attempts that fail', ratio, 0.1)
    .addOption(new Option('--retry-order <order>', 'retry_order of the failing runs').choices(['block-key', 'skip']).default('block-key')),
).action(async (flags: { rounds: number; failRatio: number; retryOrder: RetryOrderName; records: number; runs: number; json?: boolean }) => {
  const { failRatio, retryOrder, ...rest } = flags;
  await variantCost(
    'retry-cost',
    [
      { label: 'no failures', args: [] },
      { label: `${percent(failRatio)} fail`, args: ['--fail-ratio', String(failRatio), '--retry-order', retryOrder] },
    ],
    rest,
  );
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
