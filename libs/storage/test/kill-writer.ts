/**
 * Child process of the kill -9 recovery test (`kill-recovery.test.ts`).
 * Appends fsync batches to `partitions` partitions of topic 1 in a loop, as
 * an idempotent producer per partition, and prints one line per
 * acknowledged batch: `ack <partition> <baseOffset> <count> <baseSequence>`.
 * Record i of a batch has the payload `p<partition>-s<sequence of record i>`,
 * so the parent can check every acknowledged record after recovery.
 *
 * After each batch, a consumer of subscription `kill-sub` acknowledges the
 * batch's upper half and the previous batch's lower half (so acks arrive
 * out of order and the state always holds a range above the cursor), marks
 * the unacknowledged lower half as delivered once, saves the state with the
 * default `write` durability and, once the save resolves, prints
 * `sub <partition> <cursor> <batch base offset>`. Runs until killed.
 *
 *   node --conditions=@braid/source --import tsx libs/storage/test/kill-writer.ts <dir> <partitions>
 */
import { LogStore, newSubscriptionState } from '../src/index.js';

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
  const subscription = newSubscriptionState(0);
  let previousBase: number | undefined;
  for (;;) {
    const payloads = Array.from({ length: BATCH }, (_, i) => Buffer.from(`p${partition}-s${sequence + i}`.padEnd(100, '.')));
    const { baseOffset } = await log.append({ payloads, timestampMs: Date.now(), producer: { id: `writer-${partition}`, baseSequence: sequence } }, 'fsync');
    // Writes to a pipe are synchronous on Linux: once this returns, the line survives our SIGKILL.
    process.stdout.write(`ack ${partition} ${baseOffset} ${BATCH} ${sequence}\n`);
    sequence += BATCH;

    const half = BATCH / 2;
    subscription.acked.add(baseOffset + half, baseOffset + BATCH - 1);
    if (previousBase !== undefined) {
      subscription.acked.add(previousBase, previousBase + half - 1);
      for (let o = previousBase; o < previousBase + half; o++) subscription.attempts.delete(o);
    }
    for (let o = baseOffset; o < baseOffset + half; o++) subscription.attempts.set(o, 1);
    subscription.cursor = subscription.acked.advance(subscription.cursor);
    previousBase = baseOffset;
    await store.subscriptions().save(1, partition, 'kill-sub', subscription);
    process.stdout.write(`sub ${partition} ${subscription.cursor} ${baseOffset}\n`);
  }
}

await Promise.all(Array.from({ length: partitions }, (_, p) => writeLoop(p)));
