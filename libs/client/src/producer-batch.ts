/**
 * One batch: records of one (topic, partition) that travel in one
 * `PublishRequest`, the callers waiting for them, and the batch's delivery
 * state (sequence number, attempts, whether an earlier attempt may already
 * be in the log).
 */
import { InternalError } from '@braid/core';
import type { Backoff } from '@braid/backoff';
import type { BraidError } from '@braid/core';
import type { PublishResult, Record as ProtoRecord } from '@braid/proto';
import type { SendCompletion } from './send-completion.js';

/** A batch of records for one partition. */
export class ProducerBatch {
  /** The records, in send order. */
  readonly records: ProtoRecord[] = [];
  private readonly completions: SendCompletion[] = [];
  private readonly indexes: number[] = [];
  private readonly sizes: number[] = [];
  /** Sum of the records' sizes. */
  bytes = 0;

  /** Sequence number of the first record within (producer id, partition); -1 until first sent. */
  baseSequence = -1;
  /** Times the batch was sent. */
  attempts = 0;
  /** An earlier batch of the partition failed while this one was in flight, so this one's failure is expected. */
  doomed = false;
  /**
   * Some attempt ended without an answer from the broker (connection lost,
   * timeout), so the batch may be in the log. Sticky: only a success clears
   * the doubt.
   */
  maybeAppended = false;
  /** The partition's sequence was restarted for this batch once already. */
  sequenceReset = false;
  /** Delays between attempts; created at the first failure. */
  backoff: Backoff | undefined;
  private finished = false;

  /**
   * @param release - gives a record's bytes back to the producer's buffer.
   */
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly createdAt: number,
    private readonly release: (bytes: number) => void,
  ) {}

  /** Number of records. */
  get count(): number {
    return this.records.length;
  }

  /** Sequence number after the last record. */
  get endSequence(): number {
    return this.baseSequence + this.records.length;
  }

  /** Whether the callers have been answered (acknowledged, failed or aborted). */
  get settled(): boolean {
    return this.finished;
  }

  /** Adds record `index` of `completion`. */
  add(record: ProtoRecord, size: number, completion: SendCompletion, index: number): void {
    this.records.push(record);
    this.completions.push(completion);
    this.indexes.push(index);
    this.sizes.push(size);
    this.bytes += size;
  }

  /**
   * Moves the records of `later` (a never-sent batch of the same partition
   * that was sealed after this one) to the end of this batch.
   */
  absorb(later: ProducerBatch): void {
    this.records.push(...later.records);
    this.completions.push(...later.completions);
    this.indexes.push(...later.indexes);
    this.sizes.push(...later.sizes);
    this.bytes += later.bytes;
    later.records.length = 0;
    later.completions.length = 0;
    later.indexes.length = 0;
    later.sizes.length = 0;
    later.bytes = 0;
    later.finished = true;
  }

  /**
   * Answers every caller with its record's position. A response with a
   * result count other than the record count is a broker bug: the records
   * fail with INTERNAL.
   */
  complete(results: readonly PublishResult[]): void {
    if (results.length !== this.records.length) {
      this.fail(new InternalError(`broker answered ${results.length} results for a batch of ${this.records.length} records`));
      return;
    }
    this.settle((completion, index, i) => {
      const result = results[i];
      if (result) completion.succeed(index, result.partition, result.offset);
    });
  }

  /** Fails every record of the batch with `error`. */
  fail(error: BraidError): void {
    this.settle((completion) => { completion.fail(error); });
  }

  private settle(each: (completion: SendCompletion, index: number, i: number) => void): void {
    if (this.finished) return;
    this.finished = true;
    for (let i = 0; i < this.records.length; i++) {
      this.release(this.sizes[i] ?? 0);
      const completion = this.completions[i];
      if (completion) each(completion, this.indexes[i] ?? 0, i);
    }
  }
}
