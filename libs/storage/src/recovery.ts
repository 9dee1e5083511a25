/**
 * Rebuilds every partition's state when a store opens. Nothing is kept in
 * memory that the database does not hold: the high watermark is the last
 * log key + 1 (or the log start when the log is empty), and log start, size,
 * retention and producer state come from the meta and producer keys, which
 * were written in the same atomic batches as the records. So after a kill -9
 * every acknowledged record is found and offsets continue without gaps or
 * reuse.
 */
import type { Logger } from '@braid/core';
import type { Database } from './database.js';
import {
  Keyspace,
  decodeLogKey,
  decodePartitionMetaKey,
  decodeProducerKey,
  keyspaceRange,
  logRange,
} from './keys.js';
import type { PartitionAddress } from './keys.js';
import { decodeLogValue } from './log-entry.js';
import { decodePartitionMeta } from './partition-meta.js';
import type { PartitionMeta } from './partition-meta.js';
import type { PartitionState } from './partition-log.js';
import { ProducerState } from './producer-state.js';

/** One partition found in the database. */
export interface RecoveredPartition extends PartitionAddress {
  state: PartitionState;
}

interface Found extends PartitionAddress {
  meta: PartitionMeta | undefined;
  producers: Map<string, ProducerState>;
}

/** Reads the state of every partition that has a meta or producer key. */
export async function recoverPartitions(db: Database, logger: Logger): Promise<RecoveredPartition[]> {
  const found = new Map<string, Found>();
  const entry = (topicId: number, partition: number): Found => {
    const id = `${topicId}/${partition}`;
    let f = found.get(id);
    if (!f) {
      f = { topicId, partition, meta: undefined, producers: new Map() };
      found.set(id, f);
    }
    return f;
  };
  for await (const [key, value] of db.entries(keyspaceRange(Keyspace.partitionMeta))) {
    const { topicId, partition } = decodePartitionMetaKey(key);
    entry(topicId, partition).meta = decodePartitionMeta(value);
  }
  for await (const [key, value] of db.entries(keyspaceRange(Keyspace.producer))) {
    const { topicId, partition, producerId } = decodeProducerKey(key);
    entry(topicId, partition).producers.set(producerId, ProducerState.decode(value));
  }

  const recovered: RecoveredPartition[] = [];
  for (const f of found.values()) {
    const range = logRange(f.topicId, f.partition);
    const last = await db.first({ ...range, reverse: true });
    // Every append writes the meta with its records, so a missing meta means
    // the database was written by something else; rebuild it from the log.
    const meta = f.meta ?? (await metaFromLog(db, f, logger));
    const lastOffset = last ? decodeLogKey(last[0]).offset : -1;
    const highWatermark = Math.max(lastOffset + 1, meta.logStartOffset);
    recovered.push({
      topicId: f.topicId,
      partition: f.partition,
      state: {
        meta,
        highWatermark,
        lastTimestampMs: last ? decodeLogValue(last[1]).timestampMs : 0,
        producers: f.producers,
      },
    });
  }
  return recovered;
}

async function metaFromLog(db: Database, address: PartitionAddress, logger: Logger): Promise<PartitionMeta> {
  logger.warn(address, 'partition has no meta key; rebuilding it from the log');
  let logStartOffset: number | undefined;
  let sizeBytes = 0;
  for await (const [key, value] of db.entries(logRange(address.topicId, address.partition))) {
    logStartOffset ??= decodeLogKey(key).offset;
    sizeBytes += key.length + value.length;
  }
  return { logStartOffset: logStartOffset ?? 0, sizeBytes, maxAgeMs: 0, maxBytes: 0 };
}
