/**
 * What dlq-admin keeps in memory per dead letter: exactly what filtering,
 * ordering and paging need. Values, headers and ledgers stay in the local
 * store and are read per page (and by "text in the value" filters).
 */
import type { DeadLetter, DeadLetterRef } from '@braid/proto';

/** One dead letter in a queue's in-memory index. */
export interface RecordSummary {
  /** Partition of the dead-letter topic. */
  readonly partition: number;
  /** Offset in the dead-letter topic. */
  readonly offset: number;
  /** Partition of the origin topic. */
  readonly originPartition: number;
  /** Offset in the origin topic. */
  readonly originOffset: number;
  /** Key of the record (undefined: keyless). */
  readonly key: Buffer | undefined;
  /** Reason of the last attempt. */
  readonly reason: string;
  /** Error class of the last attempt. */
  readonly errorClass: string;
  /** Attempts in the ledger. */
  readonly attempts: number;
  /** When it was dead-lettered (Unix ms). */
  readonly deadLetteredAtMs: number;
  /** Times it was redriven before. */
  readonly redriveCount: number;
  /** Bytes of the value. */
  readonly valueSize: number;
  /** Purged or redriven: no longer in the queue (removed lazily from the index). */
  removed: boolean;
}

/** The summary of `letter` (with `dlqPartition` and `dlqOffset` filled in) whose value has `valueSize` bytes. */
export function summarize(letter: DeadLetter, valueSize = letter.value.length): RecordSummary {
  const last = letter.attempts[letter.attempts.length - 1];
  return {
    partition: letter.dlqPartition,
    offset: letter.dlqOffset,
    originPartition: letter.origin?.partition ?? 0,
    originOffset: letter.origin?.offset ?? 0,
    key: letter.origin?.key,
    reason: last?.reason ?? '',
    errorClass: last?.errorClass ?? '',
    attempts: letter.attempts.length,
    deadLetteredAtMs: letter.deadLetteredAtMs,
    redriveCount: letter.redriveCount,
    valueSize,
    removed: false,
  };
}

/** `partition/offset`: a record's id within its dead-letter topic. */
export function refId(partition: number, offset: number): string {
  return `${partition}/${offset}`;
}

/** The `DeadLetterRef` naming a record. */
export function toRef(record: { partition: number; offset: number }): DeadLetterRef {
  return { dlqPartition: record.partition, dlqOffset: record.offset };
}

/**
 * Index order: dead-lettered time, then partition, then offset, so "oldest
 * first" holds across partitions and every record has one place.
 */
export function compareSummaries(a: Pick<RecordSummary, 'deadLetteredAtMs' | 'partition' | 'offset'>, b: Pick<RecordSummary, 'deadLetteredAtMs' | 'partition' | 'offset'>): number {
  return a.deadLetteredAtMs - b.deadLetteredAtMs || a.partition - b.partition || a.offset - b.offset;
}
