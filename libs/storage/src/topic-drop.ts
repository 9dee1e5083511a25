/**
 * Deletes all of a topic's data, crash-safely. RocksDB's range clear is not
 * atomic (it deletes in chunks), so a synced marker key records that a drop
 * has begun; it is removed only after every range is cleared, and a store
 * that opens with a marker present finishes the drop first. A crash halfway
 * therefore never resurrects a partial topic.
 *
 * Retry states are deleted first, chunk by chunk with their due-index
 * entries (`retry-drop.ts`): the due index is keyed by due time, not by
 * topic, so no range clear reaches it.
 */
import type { Logger } from '@braid/core';
import type { Database } from './database.js';
import { Keyspace, decodePendingTopicDropKey, pendingTopicDropKey, pendingTopicDropRange, topicRange } from './keys.js';
import { deleteRetryStates } from './retry-drop.js';

/** The keyspaces keyed by topic id first, cleared by a drop. */
const TOPIC_KEYSPACES = [Keyspace.log, Keyspace.partitionMeta, Keyspace.producer, Keyspace.subscription, Keyspace.retry] as const;

/** Deletes every key of `topicId` in the topic-keyed keyspaces, and its retry due entries. */
export async function deleteTopicData(db: Database, topicId: number, logger: Logger): Promise<void> {
  const marker = pendingTopicDropKey(topicId);
  await db.write([{ type: 'put', key: marker, value: Buffer.from([1]) }], true);
  // Before the range clears: the states are what names the due entries.
  await deleteRetryStates(db, topicRange(Keyspace.retry, topicId), logger);
  for (const keyspace of TOPIC_KEYSPACES) await db.clear(topicRange(keyspace, topicId));
  // Synced, so the unsynced deletions of the clears before it are durable too (one WAL, in order).
  await db.write([{ type: 'del', key: marker }], true);
}

/** Finishes drops interrupted by a crash; returns their topic ids. */
export async function finishPendingTopicDrops(db: Database, logger: Logger): Promise<number[]> {
  const topics: number[] = [];
  for await (const [key] of db.entries(pendingTopicDropRange(), { values: false })) topics.push(decodePendingTopicDropKey(key));
  for (const topicId of topics) {
    logger.info({ topicId }, 'finishing a topic drop interrupted by a crash');
    await deleteTopicData(db, topicId, logger);
  }
  return topics;
}
