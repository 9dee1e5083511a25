/**
 * Child process of the retry kill -9 test (`retry-kill-recovery.test.ts`).
 * Runs one loop per partition of topic 1, subscription `kill-sub`; in
 * iteration i each loop, one operation at a time (each one batch of 10
 * offsets, `write` durability):
 *
 * 1. puts batch i (offsets 10i..10i+9) with one attempt, due at 10,000 + i,
 *    and prints `put <partition> <i> 1`;
 * 2. replaces batch i-1 with two attempts, due at 20,000,000 + i, and prints
 *    `put <partition> <i-1> 2`;
 * 3. removes batch i-2 and prints `remove <partition> <i-2>`.
 *
 * Each line is printed once its operation resolved. Runs until killed.
 *
 *   node --conditions=@braid/source --import tsx libs/storage/test/retry-kill-writer.ts <dir> <partitions>
 */
import { LogStore } from '../src/index.js';
import type { RetryState } from '../src/index.js';

const [dir, partitionsArg] = process.argv.slice(2);
if (dir === undefined || partitionsArg === undefined) throw new Error('usage: retry-kill-writer.ts <dir> <partitions>');
const partitions = Number(partitionsArg);
const BATCH = 10;

const store = await LogStore.open(dir, { retentionCheckIntervalMs: 0 });
const retries = store.retries();

function batch(partition: number, i: number, attempts: number, dueMs: number): RetryState[] {
  return Array.from({ length: BATCH }, (_, k) => ({
    topicId: 1,
    partition,
    subscription: 'kill-sub',
    offset: i * BATCH + k,
    attempts: Array.from({ length: attempts }, (_, a) => ({
      attempt: a + 1,
      timeMs: Date.now(),
      memberId: 'kill-member',
      disposition: 'nack' as const,
      reason: `attempt ${a + 1}`,
      errorClass: 'KillTest',
    })),
    dueMs,
    deadLettering: false,
  }));
}

async function loop(partition: number): Promise<never> {
  for (let i = 0; ; i++) {
    await retries.put(batch(partition, i, 1, 10_000 + i));
    // Writes to a pipe are synchronous on Linux: once this returns, the line survives our SIGKILL.
    process.stdout.write(`put ${partition} ${i} 1\n`);
    if (i >= 1) {
      await retries.put(batch(partition, i - 1, 2, 20_000_000 + i));
      process.stdout.write(`put ${partition} ${i - 1} 2\n`);
    }
    if (i >= 2) {
      const gone = batch(partition, i - 2, 0, 0);
      await retries.remove(gone);
      process.stdout.write(`remove ${partition} ${i - 2}\n`);
    }
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: partitions }, (_, p) => loop(p)));
