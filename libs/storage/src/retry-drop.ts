/**
 * Deletes retry states together with their due-index entries. A due entry
 * is keyed by its due time, which only the state's value holds, so clearing
 * `[0x07]` ranges alone would leave due entries behind: each chunk of states
 * is read, and the states and their due entries are deleted in one batch.
 *
 * Deleting one subscription's states is crash-safe the way a topic drop is
 * (`topic-drop.ts`): a synced marker `[0x06][0x02][topicId][subscription]`
 * records that it began and is removed after the last chunk, and a store
 * that opens with a marker present finishes the deletion first, so a
 * subscription deleted just before a crash never comes back with half of
 * its retries. A topic drop deletes its retry states under its own marker.
 */
import type { Logger } from '@braid/core';
import type { Database, KeyRange, WriteOp } from './database.js';
import { retryDropChunk } from './defaults.js';
import {
  Keyspace,
  decodePendingRetryDropKey,
  decodeRetryStateKey,
  pendingRetryDropKey,
  pendingRetryDropRange,
  retryDueKey,
  retryPartitionStart,
  retrySubscriptionRange,
  topicRange,
} from './keys.js';
import { decodeRetryState, waitsForTimer } from './retry-state.js';

/** Deletes every retry state in `range` (a range of `[0x07]` keys) with its due entry; returns how many. */
export async function deleteRetryStates(db: Database, range: KeyRange, logger: Logger): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ops: WriteOp[] = [];
    let states = 0;
    for await (const [key, value] of db.entries({ ...range, limit: retryDropChunk })) {
      states++;
      ops.push({ type: 'del', key });
      const id = decodeRetryStateKey(key);
      try {
        const state = decodeRetryState(id, value);
        if (waitsForTimer(state)) ops.push({ type: 'del', key: retryDueKey(state.dueMs, id.topicId, id.partition, id.subscription, id.offset) });
      } catch (error) {
        // A value that does not decode cannot name its due entry; the state goes anyway, and `due()` drops the orphaned entry when it meets it.
        logger.warn({ err: error, ...id }, 'undecodable retry state deleted; its due entry, if any, is left to the due index cleanup');
      }
    }
    if (states === 0) return deleted;
    await db.write(ops, false);
    deleted += states;
    if (states < retryDropChunk) return deleted;
  }
}

/**
 * Deletes the retry states of `subscription` on every partition of
 * `topicId`. The key puts the partition before the subscription, so this
 * visits the topic's partitions by seeking: one seek per partition that has
 * retry states, plus the states deleted.
 */
async function deleteSubscriptionStates(db: Database, topicId: number, subscription: string, logger: Logger): Promise<number> {
  const topic = topicRange(Keyspace.retry, topicId);
  let from = topic.gte ?? retryPartitionStart(topicId, 0);
  let deleted = 0;
  for (;;) {
    const first = await db.first({ ...topic, gte: from });
    if (!first) return deleted;
    const { partition } = decodeRetryStateKey(first[0]);
    deleted += await deleteRetryStates(db, retrySubscriptionRange(topicId, partition, subscription), logger);
    if (partition === 2 ** 32 - 1) return deleted;
    from = retryPartitionStart(topicId, partition + 1);
  }
}

/** Deletes every retry state of `subscription` on `topicId`, crash-safely (see the file comment). */
export async function dropSubscriptionRetries(db: Database, topicId: number, subscription: string, logger: Logger): Promise<number> {
  const marker = pendingRetryDropKey(topicId, subscription);
  await db.write([{ type: 'put', key: marker, value: Buffer.from([1]) }], true);
  const deleted = await deleteSubscriptionStates(db, topicId, subscription, logger);
  // Synced, so the unsynced deletions before it are durable too (one WAL, in order).
  await db.write([{ type: 'del', key: marker }], true);
  return deleted;
}

/** Finishes subscription retry drops interrupted by a crash; returns what they were. */
export async function finishPendingRetryDrops(db: Database, logger: Logger): Promise<{ topicId: number; subscription: string }[]> {
  const drops: { topicId: number; subscription: string }[] = [];
  for await (const [key] of db.entries(pendingRetryDropRange(), { values: false })) drops.push(decodePendingRetryDropKey(key));
  for (const { topicId, subscription } of drops) {
    logger.info({ topicId, subscription }, "finishing the deletion of a subscription's retry states interrupted by a crash");
    await dropSubscriptionRetries(db, topicId, subscription, logger);
  }
  return drops;
}
