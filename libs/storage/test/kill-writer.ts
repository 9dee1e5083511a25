/**
 * Child process of the kill -9 recovery test (`kill-recovery.test.ts`).
 * Appends fsync batches to `partitions` partitions of topic 1 in a loop, as
 * an idempotent producer per partition, and prints one line per
 * acknowledged batch: `ack <partition> <baseOffset> <count> <baseSequence>`.
 * Record i of a batch has the payload `p<partition>-s<sequence of record i>`,
 * so the parent can check every acknowledged record after recovery. Runs
 * until killed.
 *
 *   node --conditions=@braid/source --import tsx libs/storage/test/kill-writer.ts <dir> <partitions>
 */
import { LogStore } from '../src/index.js';

const [dir, partitionsArg] = process.argv.slice(2);
if (dir === undefined || partitionsArg === undefined) throw new Error('usage: kill-writer.ts <dir> <partitions>');
const partitions = Number(partitionsArg);
const BATCH = 10;

const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
process.stdout.write('ready\n');

async function writeLoop(partition: number): Promise<never> {
  const log = store.partition(1, partition);
  // Start after what a previous run of this script may have left (not used by the test, harmless).
  let sequence = log.highWatermark;
  for (;;) {
    const payloads = Array.from({ length: BATCH }, (_, i) => Buffer.from(`p${partition}-s${sequence + i}`.padEnd(100, '.')));
    const { baseOffset } = await log.append({ payloads, timestampMs: Date.now(), producer: { id: `writer-${partition}`, baseSequence: sequence } }, 'fsync');
    // Writes to a pipe are synchronous on Linux: once this returns, the line survives our SIGKILL.
    process.stdout.write(`ack ${partition} ${baseOffset} ${BATCH} ${sequence}\n`);
    sequence += BATCH;
  }
}

await Promise.all(Array.from({ length: partitions }, (_, p) => writeLoop(p)));
