/**
 * LogStore append throughput: batches of 100 records of 256-byte payloads
 * to 8 partitions, each partition fed by one producer loop that keeps 1 (or
 * 4) appends in flight, with durability `fsync` and `write`. Every run uses
 * a fresh store in a temp dir with the default options (group commit: 4
 * batches in flight, 4 MiB per batch); figures are medians of `--runs`.
 *
 *   npx tsx libs/storage/scripts/bench-log.ts [--seconds 2] [--runs 3] [--max-batch-bytes N] [--max-in-flight-batches N]
 *
 * The last two override the group-commit options, for tuning.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LogStore } from '../src/index.js';
import type { Durability } from '../src/index.js';

const PARTITIONS = 8;
const RECORDS_PER_BATCH = 100;
const PAYLOAD_BYTES = 256;

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    'max-batch-bytes': { type: 'string' },
    'max-in-flight-batches': { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const runs = Number(args.runs);
const groupCommit = {
  ...(args['max-batch-bytes'] === undefined ? {} : { maxBatchBytes: Number(args['max-batch-bytes']) }),
  ...(args['max-in-flight-batches'] === undefined ? {} : { maxInFlightBatches: Number(args['max-in-flight-batches']) }),
};

// Random payloads, rotated: incompressible, and no two batches share buffers.
const pool = Array.from({ length: 4096 }, () => randomBytes(PAYLOAD_BYTES));
let cursor = 0;
function batch(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) out.push(pool[cursor++ & 4095] ?? Buffer.alloc(PAYLOAD_BYTES));
  return out;
}

interface Figures {
  recordsPerSec: number;
  appendsPerWrite: number;
  p99LatencyMs: number;
  p99LoopDelayMs: number;
}

async function run(durability: Durability, inFlightPerPartition: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'braid-bench-log-'));
  const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0, groupCommit });
  try {
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    const latencies: number[] = [];
    let records = 0;
    const start = performance.now();
    const deadline = start + seconds * 1000;
    loopDelay.enable();
    const producer = async (partition: number): Promise<void> => {
      const log = store.partition(1, partition);
      while (performance.now() < deadline) {
        const sent = performance.now();
        await log.append({ payloads: batch(), timestampMs: Date.now() }, durability);
        latencies.push(performance.now() - sent);
        records += RECORDS_PER_BATCH;
      }
    };
    const loops: Promise<void>[] = [];
    for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < inFlightPerPartition; i++) loops.push(producer(p));
    await Promise.all(loops);
    const elapsed = (performance.now() - start) / 1000;
    loopDelay.disable();
    latencies.sort((a, b) => a - b);
    const { writeBatches, entriesWritten } = store.stats();
    return {
      recordsPerSec: records / elapsed,
      appendsPerWrite: entriesWritten / writeBatches,
      p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
      p99LoopDelayMs: loopDelay.percentile(99) / 1e6,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

console.log(
  `LogStore.append: ${PARTITIONS} partitions, batches of ${RECORDS_PER_BATCH} x ${PAYLOAD_BYTES}-byte payloads, ` +
    `${seconds} s per run, medians of ${runs} runs (Node ${process.version}, ${availableParallelism()} cores, ` +
    `group commit ${JSON.stringify(groupCommit)} over the defaults)\n`,
);
console.log('| durability | appends in flight per partition | records/s | appends per RocksDB write | append latency p99 | event-loop delay p99 | runs (records/s) |');
console.log('|---|---|---|---|---|---|---|');
for (const durability of ['fsync', 'write'] as const) {
  for (const inFlight of [1, 4]) {
    const results: Figures[] = [];
    for (let r = 0; r < runs; r++) results.push(await run(durability, inFlight));
    const m = (pick: (f: Figures) => number): number => median(results.map(pick));
    console.log(
      `| ${durability} | ${inFlight} | ${Math.round(m((f) => f.recordsPerSec) / 1000)}k | ${m((f) => f.appendsPerWrite).toFixed(1)} | ` +
        `${m((f) => f.p99LatencyMs).toFixed(1)} ms | ${m((f) => f.p99LoopDelayMs).toFixed(1)} ms | ` +
        `${results.map((f) => `${Math.round(f.recordsPerSec / 1000)}k`).join(', ')} |`,
    );
  }
}
