/**
 * Braid benchmarks: commands that print figures anyone can rerun (STYLE.md:
 * benchmarks are commands, not timed assertions in tests).
 *
 *   npm run bench -- publish --records 1000000 --durability write
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { producerDefaults } from '@braid/client';
import { benchPublish, formatReport } from './publish.js';

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

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
