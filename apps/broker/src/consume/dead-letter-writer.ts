/**
 * Writes dead letters: a record that used up its attempts (or was
 * rejected) goes to its subscription's dead-letter topic, an ordinary topic
 * that is created on first use. The dead-letter record keeps the original
 * key (so a key's dead letters stay in one partition, in order), carries
 * the original headers plus `braid-dlq-origin`, and has a
 * `braid.v1.DeadLetter` as its value: origin, original value and headers,
 * the whole attempt ledger, publish and dead-letter times (see
 * proto/braid/v1/dlq_admin.proto).
 *
 * Dead-lettering is at-least-once and deduplicated by origin: the dispatcher
 * persists its intent before writing and settles the record after, and when
 * it finishes an intent after a crash it asks for `dedupe`, which first
 * looks for a dead letter of the same origin among the last records of the
 * dead-letter partition (`dedupeScanRecords`).
 */
import { TopicNotFoundError } from '@braid/core';
import type { Clock } from '@braid/core';
import { partitionForKey } from '@braid/partitioning';
import { DeadLetter, Disposition, StoredRecord } from '@braid/proto';
import type { Attempt } from '@braid/proto';
import type { AttemptEntry, LogStore } from '@braid/storage';
import type { TopicView } from '../metadata-cache.js';

/** Header naming where a dead letter came from: `<topic>/<partition>/<offset>/<subscription>`. */
export const originHeader = 'braid-dlq-origin';

/** How many of the last records of a dead-letter partition a deduplicating write looks at. */
export const dedupeScanRecords = 10_000;

/** One record to dead-letter. */
export interface DeadLetterRequest {
  topic: string;
  partition: number;
  offset: number;
  subscription: string;
  deadLetterTopic: string;
  /** The stored record bytes (`record-codec.ts`). */
  payload: Uint8Array;
  attempts: readonly AttemptEntry[];
  /** Look for an earlier write of the same origin first (finishing an intent after a restart). */
  dedupe: boolean;
}

/** Where the dead letter is. */
export interface DeadLetterWritten {
  partition: number;
  offset: number;
  /** True when an earlier write was found and nothing new was written. */
  duplicate: boolean;
}

/** Appends one record to a topic led here and waits until it is durable. */
export type DeadLetterAppender = (topic: string, partition: number, record: { key: Buffer | undefined; value: Buffer; headers: Record<string, string> }) => Promise<number>;

/** What the writer needs from the broker. */
export interface DeadLetterWriterOptions {
  store: LogStore;
  clock: Clock;
  /** The topic, fetched from the coordinator on a cache miss; NOT_FOUND if it does not exist. */
  resolveTopic: (name: string) => Promise<TopicView>;
  /** Creates the topic (already existing is fine). */
  createTopic: (name: string) => Promise<void>;
  append: DeadLetterAppender;
}

const dispositions: Record<AttemptEntry['disposition'], Disposition> = {
  nack: Disposition.DISPOSITION_NACK,
  reject: Disposition.DISPOSITION_REJECT,
  lease_expired: Disposition.DISPOSITION_LEASE_EXPIRED,
  member_left: Disposition.DISPOSITION_MEMBER_LEFT,
};

/** The ledger as the contract spells it. */
export function toAttempts(entries: readonly AttemptEntry[]): Attempt[] {
  return entries.map((entry) => ({
    attempt: entry.attempt,
    timeMs: entry.timeMs,
    memberId: entry.memberId,
    disposition: dispositions[entry.disposition],
    reason: entry.reason,
    errorClass: entry.errorClass,
  }));
}

/** See the file comment. */
export class DeadLetterWriter {
  constructor(private readonly options: DeadLetterWriterOptions) {}

  /** Writes one dead letter (or finds the earlier write, with `dedupe`). */
  async write(request: DeadLetterRequest): Promise<DeadLetterWritten> {
    const record = StoredRecord.decode(request.payload);
    const origin = `${request.topic}/${request.partition}/${request.offset}/${request.subscription}`;
    const topic = await this.deadLetterTopic(request.deadLetterTopic);
    // Keyed: the key's partition, so a key's dead letters keep their order.
    // Keyless: a partition fixed by the origin, so a retried write finds the first.
    const partition = partitionForKey(record.key ?? Buffer.from(origin), topic.partitions);
    if (request.dedupe) {
      const earlier = await this.find(topic.id, partition, origin);
      if (earlier !== undefined) return { partition, offset: earlier, duplicate: true };
    }
    const value = Buffer.from(
      DeadLetter.encode({
        dlqOffset: 0,
        dlqPartition: 0,
        origin: { topic: request.topic, partition: request.partition, offset: request.offset, subscription: request.subscription, key: record.key },
        value: Buffer.from(record.value),
        headers: record.headers,
        attempts: toAttempts(request.attempts),
        // How often an operator redrove it already: dlq-admin's loop guard.
        redriveCount: record.redriveCount,
        deadLetteredAtMs: this.options.clock.now(),
        publishTimeMs: record.publishTimeMs,
        edits: [],
      }).finish(),
    );
    const offset = await this.options.append(topic.name, partition, {
      key: record.key === undefined ? undefined : Buffer.from(record.key),
      value,
      headers: { ...record.headers, [originHeader]: origin },
    });
    return { partition, offset, duplicate: false };
  }

  private async deadLetterTopic(name: string): Promise<TopicView> {
    try {
      return await this.options.resolveTopic(name);
    } catch (error) {
      if (!(error instanceof TopicNotFoundError)) throw error;
      await this.options.createTopic(name);
      return this.options.resolveTopic(name);
    }
  }

  /** Offset of a dead letter of `origin` among the last records of the partition, if any. */
  private async find(topicId: number, partition: number, origin: string): Promise<number | undefined> {
    const log = this.options.store.partition(topicId, partition);
    let position = Math.max(log.logStartOffset, log.highWatermark - dedupeScanRecords);
    while (position < log.highWatermark) {
      const entries = await log.read(position, { maxRecords: 1000, maxBytes: 4 * 1024 * 1024 });
      if (entries.length === 0) break;
      for (const entry of entries) {
        position = entry.offset + 1;
        if (StoredRecord.decode(entry.payload).headers[originHeader] === origin) return entry.offset;
      }
    }
    return undefined;
  }
}
