/**
 * `AdminService.ReadRecords` on the broker: reads one partition of any
 * topic (a dead-letter topic, typically) for tools, without a subscription
 * and without side effects (no cursor, lease or attempt changes). Served
 * only by the partition's leader, which holds its log; other brokers answer
 * NOT_LEADER with the leader's address, like the publish path. Records are
 * decoded from the stored `StoredRecord` bytes (`record-codec.ts`) and get
 * topic, partition and offset from where they live.
 */
import { InvalidArgumentError, PartitionOutOfRangeError, assertValidName } from '@braid/core';
import { StoredRecord } from '@braid/proto';
import type { ReadRecordsRequest, ReadRecordsResponse } from '@braid/proto';
import type { LogStore } from '@braid/storage';
import type { MetadataCache } from './metadata-cache.js';
import { assertLeads } from './partition-leadership.js';
import type { TopicResolver } from './topic-resolver.js';

/** Limits of one read; `max_records` and `max_bytes` of 0 take the defaults. */
export const readRecordsLimits = {
  /** Records per read when the request says 0. */
  defaultMaxRecords: 100,
  /** Most records one read may ask for. */
  maxRecords: 1000,
  /** Stored bytes per read when the request says 0 (1 MiB): under grpc-js's default 4 MiB receive limit of generic clients. */
  defaultMaxBytes: 1024 * 1024,
  /** Most stored bytes one read may ask for (4 MiB). */
  maxBytes: 4 * 1024 * 1024,
} as const;

/** What the reader needs from the broker. */
export interface RecordReaderContext {
  brokerId: string;
  store: LogStore;
  cache: MetadataCache;
  topics: TopicResolver;
}

/** `value`, or `fallback` for 0; INVALID_ARGUMENT outside [1, max]. */
function limit(field: string, value: number, fallback: number, max: number): number {
  if (value === 0) return fallback;
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${field} must be 1-${max} (or 0 for the default ${fallback}), got ${value}`, {
      metadata: { field, limit: String(max) },
    });
  }
  return value;
}

/** Validates the request, checks leadership and reads the records. */
export async function readRecords(context: RecordReaderContext, request: ReadRecordsRequest): Promise<ReadRecordsResponse> {
  // Everything that needs no metadata first, so bad input is answered the same whoever leads.
  assertValidName('topic', request.topic);
  const maxRecords = limit('max_records', request.maxRecords, readRecordsLimits.defaultMaxRecords, readRecordsLimits.maxRecords);
  const maxBytes = limit('max_bytes', request.maxBytes, readRecordsLimits.defaultMaxBytes, readRecordsLimits.maxBytes);
  if (!Number.isSafeInteger(request.fromOffset) || request.fromOffset < 0) {
    throw new InvalidArgumentError(`from_offset must not be negative, got ${request.fromOffset}`, { metadata: { field: 'from_offset' } });
  }
  const topic = await context.topics.resolve(request.topic);
  const { partition } = request;
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new PartitionOutOfRangeError(topic.name, partition, topic.partitions);
  }
  assertLeads(context.cache, context.brokerId, topic, partition);
  const log = context.store.partition(topic.id, partition);
  const entries = await log.read(request.fromOffset, { maxRecords, maxBytes });
  const records = entries.map((entry) => ({ ...StoredRecord.decode(entry.payload), topic: topic.name, partition, offset: entry.offset }));
  // Read after the records: retention may have moved the log start meanwhile, and the answer must not claim an older one.
  const logStartOffset = log.logStartOffset;
  const last = entries.at(-1);
  return {
    records,
    nextOffset: last ? last.offset + 1 : Math.max(request.fromOffset, logStartOffset),
    highWatermark: log.highWatermark,
    logStartOffset,
  };
}
