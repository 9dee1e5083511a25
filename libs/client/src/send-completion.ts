/**
 * The promise behind one `Producer.send()` call: collects the outcome of
 * each of its records (which may travel in different batches and
 * partitions) and settles once — resolved with the record's position (or
 * every record's, in call order, for an array) when all were acknowledged,
 * rejected with the first failure otherwise. Kept small: one lives per
 * `send()` until the broker answers.
 */
import type { BraidError } from '@braid/core';
import type { RecordMetadata } from './records.js';

/** Told when every record of a `send()` has finished. */
export interface CompletionTracker {
  /** `completion` has no record outstanding any more. */
  completionDone(completion: SendCompletion): void;
}

/** Outcome tracking of one `send()` call. */
export class SendCompletion {
  private results: RecordMetadata[] | RecordMetadata | undefined;
  private remaining: number;
  private settled = false;
  /** Call index, set by the tracker that notes the call (`OutstandingSends`). */
  sequence = -1;

  /**
   * @param count - records in the call.
   * @param single - whether the call sent one record (resolves with it, not an array).
   * @param resolve - called once with the position(s), in call order.
   * @param reject - called once with the first failure.
   * @param tracker - told once every record has finished, either way.
   */
  constructor(
    count: number,
    single: boolean,
    private readonly resolve: (results: RecordMetadata | RecordMetadata[]) => void,
    private readonly reject: (error: BraidError) => void,
    private readonly tracker: CompletionTracker,
  ) {
    this.remaining = count;
    if (!single) this.results = new Array<RecordMetadata>(count);
  }

  /** Whether every record has finished (acknowledged or failed). */
  get done(): boolean {
    return this.remaining === 0;
  }

  /** Record `index` was acknowledged at `partition`/`offset`. */
  succeed(index: number, partition: number, offset: number): void {
    const result: RecordMetadata = { partition, offset };
    if (Array.isArray(this.results)) this.results[index] = result;
    else this.results = result;
    this.finishOne();
  }

  /** Record `index` failed; the first failure rejects the call. */
  fail(error: BraidError): void {
    if (!this.settled) {
      this.settled = true;
      this.reject(error);
    }
    this.finishOne();
  }

  private finishOne(): void {
    this.remaining -= 1;
    if (this.remaining > 0) return;
    if (!this.settled && this.results !== undefined) {
      this.settled = true;
      this.resolve(this.results);
    }
    this.tracker.completionDone(this);
  }
}
