/**
 * Where `braid dlq` finds a subscription's dead letters and how it reads
 * them: the dead-letter topic named in the subscription's settings (the
 * default `<topic>.<subscription>.dlq` when it names none, or when the
 * subscription is gone but its dead letters may not be), read partition by
 * partition with `Admin.readRecords`, which needs no subscription and moves
 * no cursor.
 */
import { status as Status } from '@grpc/grpc-js';
import { BraidError } from '@braid/core';
import { decodeDeadLetter, defaultDeadLetterTopic } from '@braid/client';
import type { Admin, StoredRecord } from '@braid/client';
import type { ListedDeadLetter } from './dead-letter-format.js';

/** Records per `ReadRecords` call while listing (the server's largest page). */
const pageRecords = 1000;

const isNotFound = (error: unknown): boolean => error instanceof BraidError && error.code === Status.NOT_FOUND;

/** The dead-letter topic of `subscription` on `topic`. */
export async function deadLetterTopicOf(admin: Admin, topic: string, subscription: string): Promise<string> {
  try {
    const described = await admin.describeSubscription(topic, subscription);
    return described.subscription?.config?.deadLetterTopic || defaultDeadLetterTopic(topic, subscription);
  } catch (error) {
    // A deleted subscription (or topic) may have left dead letters behind under the default name.
    if (isNotFound(error)) return defaultDeadLetterTopic(topic, subscription);
    throw error;
  }
}

/** The partition count of the dead-letter topic, or undefined when it does not exist (nothing was dead-lettered yet). */
export async function deadLetterPartitions(admin: Admin, dlqTopic: string): Promise<number | undefined> {
  try {
    const described = await admin.describeTopic(dlqTopic);
    return described.topic?.config?.partitions || described.partitions.length;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The records of one partition from its log start to its high watermark, page by page. */
export async function* partitionRecords(admin: Admin, topic: string, partition: number): AsyncGenerator<StoredRecord> {
  let fromOffset = 0;
  for (;;) {
    const page = await admin.readRecords(topic, partition, { fromOffset, maxRecords: pageRecords });
    yield* page.records;
    if (page.records.length === 0 || page.nextOffset >= page.highWatermark) return;
    fromOffset = page.nextOffset;
  }
}

/** A record of the dead-letter topic as `dlq list` shows it. */
export function listed(record: StoredRecord): ListedDeadLetter {
  try {
    return { deadLetter: decodeDeadLetter(record) };
  } catch (error) {
    return { partition: record.partition, offset: record.offset, problem: error instanceof Error ? error.message : String(error) };
  }
}

/** Whether a listed entry belongs to `subscription` on `topic` (a configured dead-letter topic may be shared). */
export function belongsTo(entry: ListedDeadLetter, topic: string, subscription: string): boolean {
  if (!('deadLetter' in entry)) return true;
  const origin = entry.deadLetter.origin;
  return origin?.topic === topic && origin.subscription === subscription;
}
