/**
 * Coalescing of credit top-ups for one Subscribe stream.
 *
 * The `CreditGrantor` (`@braid/flow`) is the accounting: it is run with
 * `topUpThreshold: 1`, so every settled record gives its credit back at
 * once. Left at its default threshold (0.5) it would grant only once half
 * the prefetch is free, and an application that holds more than half its
 * prefetch while it waits for the next record (collecting a batch of 8 with
 * a prefetch of 10) would wait forever: nothing it holds settles, so no
 * grant ever comes.
 *
 * Sending each of those returns as its own `credit` request would be one
 * request per record, so they gather here and go out as one request:
 *
 * - at once when they add up to `batchRecords` records or `batchBytes` bytes
 *   (half the prefetch): the broker then still has the other half;
 * - at once when the application waits for records or holds none, if they
 *   are a quarter of the prefetch or the broker may be short of credit
 *   (`SubscribeStream.flushCreditIfDue` calls `flush()`);
 * - otherwise `lingerMs` after the first of them.
 *
 * Holding credit back only ever grants the broker less than the grantor
 * counts, never more.
 */
import type { Clock } from '@braid/core';
import type { CreditGrant } from '@braid/flow';
import { FlushTimer } from './flush-timer.js';

/** Options of {@link CreditBatcher}. */
export interface CreditBatcherOptions {
  /** Records of credit that go out at once. */
  batchRecords: number;
  /** Bytes of credit that go out at once (`Infinity`: records decide). */
  batchBytes: number;
  /** Longest a top-up waits for others, in ms. */
  lingerMs: number;
  /** Time source of the linger timer. */
  clock: Clock;
  /** Sends one `credit` request. */
  send: (grant: CreditGrant) => void;
}

/** See the file comment. */
export class CreditBatcher {
  private records = 0;
  private bytes = 0;
  private readonly timer: FlushTimer;

  constructor(private readonly options: CreditBatcherOptions) {
    this.timer = new FlushTimer(options.clock, () => options.lingerMs, () => {
      this.flush();
    });
  }

  /** Credit gathered and not sent. */
  get pending(): CreditGrant {
    return { records: this.records, bytes: this.bytes };
  }

  /** Adds a top-up; sends the gathered credit now when it is large enough, else after `lingerMs`. */
  add(grant: CreditGrant): void {
    this.records += grant.records;
    this.bytes += grant.bytes;
    if (this.records >= this.options.batchRecords || this.bytes >= this.options.batchBytes) this.flush();
    else this.timer.arm();
  }

  /** Sends what is gathered now, if anything. */
  flush(): void {
    this.timer.disarm();
    if (this.records === 0 && this.bytes === 0) return;
    const grant = { records: this.records, bytes: this.bytes };
    this.records = 0;
    this.bytes = 0;
    this.options.send(grant);
  }

  /** Forgets what is gathered (the stream is gone; the next `open` works credit out afresh). */
  discard(): void {
    this.timer.disarm();
    this.records = 0;
    this.bytes = 0;
  }
}
