/**
 * Engine benchmark: `rocksdb` 5.2.1 (what `@braid/storage` uses) against
 * `@nxtedition/rocksdb` 12.2.12, compression off for both and nxtedition
 * with its defaults (ZSTD on data and WAL) too.
 *
 *   npx tsx libs/storage/scripts/bench-engines.ts [--seconds 2] [--runs 3]
 *
 * Workload: write batches of 100 records; each record is a 266-byte value
 * (the 10-byte record key + 256-byte record value, random bytes) under a
 * 16-byte ordered tuple key (topic u32, partition u32, offset u64 BE).
 * Each write configuration (sync false/true x 1/4 batches in flight) runs
 * for `--seconds` into a fresh database; a range scan reads 100,000 records
 * back after a close and reopen (so they come from SST files, not the
 * memtable). Every figure is the median of `--runs` runs.
 *
 * Event-loop blocking is measured two ways: the max event-loop delay seen
 * by `perf_hooks.monitorEventLoopDelay` (1 ms resolution; p99 and max)
 * during the run (the max includes GC pauses and memtable flush stalls),
 * and the time spent inside each `batch()` call before it returns (the part
 * of the write that runs on the event loop). Workers yield to the event
 * loop (`setImmediate`) between batches, as a server does.
 *
 * The `rocksdb` scans go through `Database.entries` (the path
 * `PartitionLog.read` uses) with 256 KiB read-ahead (what it uses) and with
 * the binding's default 16 KiB; nxtedition's through `iterator.nextv(1000)`.
 *
 * Each engine runs in its own child process: both packages link their own
 * static RocksDB, and a fresh process keeps one engine's heap and page
 * cache from skewing the other's figures.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RocksLevel } from '@nxtedition/rocksdb';
import { Database } from '../src/database.js';

const RECORDS_PER_BATCH = 100;
const VALUE_BYTES = 10 + 256;
const SCAN_RECORDS = 100_000;
const ENGINES = ['rocksdb 5.2.1 (compression off)', 'nxtedition 12.2.12 (compression off)', 'nxtedition 12.2.12 (defaults: ZSTD)'] as const;
type EngineName = (typeof ENGINES)[number];
const WRITE_CASES = [
  { sync: false, inFlight: 1 },
  { sync: false, inFlight: 4 },
  { sync: true, inFlight: 1 },
  { sync: true, inFlight: 4 },
] as const;

interface PutOp {
  type: 'put';
  key: Buffer;
  value: Buffer;
}

/** The three operations the benchmark needs, over either engine. */
interface Engine {
  write(ops: PutOp[], sync: boolean): Promise<void>;
  /** Ways to read [gte, lt) in order, by label; each returns the number of records read. */
  scans: Record<string, (gte: Buffer, lt: Buffer) => Promise<number>>;
  close(): Promise<void>;
}

async function openEngine(name: EngineName, dir: string): Promise<Engine> {
  if (name.startsWith('rocksdb')) {
    const db = await Database.open(dir, { compression: false });
    return {
      write: (ops, sync) => db.write(ops, sync),
      scans: Object.fromEntries(
        [256, 16].map((kib) => [
          `Database.entries, ${kib} KiB read-ahead`,
          async (gte: Buffer, lt: Buffer) => {
            let n = 0;
            for await (const entry of db.entries({ gte, lt }, { highWaterMark: kib * 1024 })) n += entry.length - 1;
            return n;
          },
        ]),
      ),
      close: () => db.close(),
    };
  }
  const compressionOff = name.includes('compression off');
  const db = new RocksLevel(dir, {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
    ...(compressionOff ? { compression: false, walCompression: false } : {}),
  });
  await db.open();
  return {
    write: (ops, sync) => db.batch(ops, { sync }),
    scans: {
      'iterator.nextv(1000)': async (gte, lt) => {
        const iterator = db.iterator({ gte, lt });
        let n = 0;
        try {
          for (;;) {
            const entries = await iterator.nextv(1000);
            if (entries.length === 0) return n;
            n += entries.length;
          }
        } finally {
          await iterator.close();
        }
      },
    },
    close: () => db.close(),
  };
}

function tupleKey(topic: number, partition: number, offset: number): Buffer {
  const key = Buffer.allocUnsafe(16);
  key.writeUInt32BE(topic, 0);
  key.writeUInt32BE(partition, 4);
  key.writeUInt32BE(Math.floor(offset / 2 ** 32), 8);
  key.writeUInt32BE(offset >>> 0, 12);
  return key;
}

// Random (incompressible) values, rotated so batches do not repeat bytes.
const values = Array.from({ length: 1024 }, () => randomBytes(VALUE_BYTES));
function batchAt(offset: number): PutOp[] {
  const ops: PutOp[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    ops.push({ type: 'put', key: tupleKey(1, 0, offset + i), value: values[(offset + i) & 1023] ?? values[0] ?? Buffer.alloc(0) });
  }
  return ops;
}

interface WriteFigures {
  recordsPerSec: number;
  p99LoopDelayMs: number;
  maxLoopDelayMs: number;
  meanCallMs: number;
  maxCallMs: number;
}

async function measureWrites(engine: Engine, sync: boolean, inFlight: number, seconds: number): Promise<WriteFigures> {
  let nextOffset = 0;
  let calls = 0;
  let callSum = 0;
  let callMax = 0;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const start = performance.now();
  const deadline = start + seconds * 1000;
  histogram.enable();
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const ops = batchAt(nextOffset);
      nextOffset += RECORDS_PER_BATCH;
      const before = performance.now();
      const written = engine.write(ops, sync);
      const onLoop = performance.now() - before;
      calls++;
      callSum += onLoop;
      callMax = Math.max(callMax, onLoop);
      await written;
      // Let the event loop turn between batches, as a server's would (its
      // appends arrive from socket reads). Without this, an engine whose
      // batch() completes through process.nextTick never yields to the
      // loop at all and the delay monitor sees no samples.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - start) / 1000;
  histogram.disable();
  return {
    recordsPerSec: nextOffset / elapsed,
    p99LoopDelayMs: histogram.percentile(99) / 1e6,
    maxLoopDelayMs: histogram.max / 1e6,
    meanCallMs: callSum / calls,
    maxCallMs: callMax,
  };
}

async function measureScans(name: EngineName, runs: number): Promise<{ label: string; rates: number[] }[]> {
  const dir = mkdtempSync(join(tmpdir(), 'braid-bench-scan-'));
  try {
    let engine = await openEngine(name, dir);
    for (let offset = 0; offset < SCAN_RECORDS; offset += RECORDS_PER_BATCH) await engine.write(batchAt(offset), false);
    await engine.close();
    engine = await openEngine(name, dir);
    const results: { label: string; rates: number[] }[] = [];
    for (const [label, scan] of Object.entries(engine.scans)) {
      const rates: number[] = [];
      for (let r = 0; r < runs; r++) {
        const start = performance.now();
        const n = await scan(tupleKey(1, 0, 0), tupleKey(1, 1, 0));
        if (n !== SCAN_RECORDS) throw new Error(`scan read ${n} records, expected ${SCAN_RECORDS}`);
        rates.push(n / ((performance.now() - start) / 1000));
      }
      results.push({ label, rates });
    }
    await engine.close();
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface EngineResult {
  engine: EngineName;
  writes: { sync: boolean; inFlight: number; runs: WriteFigures[] }[];
  scans: { label: string; rates: number[] }[];
}

async function runEngine(name: EngineName, seconds: number, runs: number): Promise<EngineResult> {
  const writes: EngineResult['writes'] = WRITE_CASES.map((c) => ({ ...c, runs: [] }));
  for (let r = 0; r < runs; r++) {
    for (const c of writes) {
      const dir = mkdtempSync(join(tmpdir(), 'braid-bench-write-'));
      try {
        const engine = await openEngine(name, dir);
        c.runs.push(await measureWrites(engine, c.sync, c.inFlight, seconds));
        await engine.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return { engine: name, writes, scans: await measureScans(name, runs) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

const k = (n: number): string => `${Math.round(n / 1000)}k`;
const ms = (n: number): string => (n < 1 ? n.toFixed(2) : n.toFixed(1));

function runChild(name: EngineName, seconds: number, runs: number): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', name, '--seconds', String(seconds), '--runs', String(runs)]);
    let result: EngineResult | undefined;
    child.on('message', (message) => {
      result = message as EngineResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`benchmark of ${name} exited with code ${code ?? 'null'}`));
    });
  });
}

const { values: args } = parseArgs({
  options: { child: { type: 'string' }, seconds: { type: 'string', default: '2' }, runs: { type: 'string', default: '3' } },
});
const seconds = Number(args.seconds);
const runs = Number(args.runs);

if (args.child !== undefined) {
  const name = ENGINES.find((e) => e === args.child);
  if (!name) throw new Error(`unknown engine ${args.child}`);
  const result = await runEngine(name, seconds, runs);
  process.send?.(result);
} else {
  console.log(
    `Write batches of ${RECORDS_PER_BATCH} x ${VALUE_BYTES}-byte values under 16-byte tuple keys, ${seconds} s per run; ` +
      `scan of ${SCAN_RECORDS} records after reopen; medians of ${runs} runs.`,
  );
  console.log(`Node ${process.version}, ${availableParallelism()} cores\n`);
  const results: EngineResult[] = [];
  for (const name of ENGINES) results.push(await runChild(name, seconds, runs));

  console.log('| engine | sync | in flight | records/s | event-loop delay p99 / max | on the event loop per batch() call, mean / max |');
  console.log('|---|---|---|---|---|---|');
  for (const result of results) {
    for (const c of result.writes) {
      const figure = (pick: (f: WriteFigures) => number): number => median(c.runs.map(pick));
      console.log(
        `| ${result.engine} | ${c.sync} | ${c.inFlight} | ${k(figure((f) => f.recordsPerSec))} | ` +
          `${ms(figure((f) => f.p99LoopDelayMs))} / ${ms(figure((f) => f.maxLoopDelayMs))} ms | ${ms(figure((f) => f.meanCallMs))} / ${ms(figure((f) => f.maxCallMs))} ms |`,
      );
    }
  }
  console.log('\n| engine | range scan | records/s | runs |');
  console.log('|---|---|---|---|');
  for (const result of results) {
    for (const scan of result.scans) {
      console.log(`| ${result.engine} | ${scan.label} | ${k(median(scan.rates))} | ${scan.rates.map(k).join(', ')} |`);
    }
  }
  console.log('\nWrite runs (records/s):');
  for (const result of results) {
    for (const c of result.writes) {
      console.log(`  ${result.engine}, sync ${c.sync}, ${c.inFlight} in flight: ${c.runs.map((f) => k(f.recordsPerSec)).join(', ')}`);
    }
  }
}
