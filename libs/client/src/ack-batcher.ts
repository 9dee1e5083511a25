/**
 * Batching of acknowledgements for one Subscribe stream: offsets gather
 * until `maxBatch` are pending or `flushMs` has passed since the first of
 * them, then go out as one `ack` request whose ranges coalesce consecutive
 * offsets (`toRanges`). Acks are idempotent on the broker, so an ack sent
 * late only delays progress; an ack lost with a broken stream is harmless
 * because the broker redelivers what the member held.
 */
import type { Clock } from '@braid/core';
import type { OffsetRange } from '@braid/proto';
import { toRanges } from './offset-ranges.js';
import type { Position } from './offset-ranges.js';
import { FlushTimer } from './flush-timer.js';

/** Options of {@link AckBatcher}. */
export interface AckBatcherOptions {
  /** Pending acks that trigger a flush at once (>= 1). */
  maxBatch: number;
  /** Longest the first pending ack waits, in ms (>= 0). */
  flushMs: number;
  /** Time source of the flush timer. */
  clock: Clock;
  /** Sends one `ack` request. */
  send: (ranges: OffsetRange[]) => void;
}

/** See the file comment. */
export class AckBatcher {
  private pendingAcks: Position[] = [];
  private readonly timer: FlushTimer;

  constructor(private readonly options: AckBatcherOptions) {
    this.timer = new FlushTimer(options.clock, () => options.flushMs, () => {
      this.flush();
    });
  }

  /** Acks waiting to be sent. */
  get pending(): number {
    return this.pendingAcks.length;
  }

  /** Adds one acknowledgement; sends the batch when it is full. */
  add(partition: number, offset: number): void {
    this.pendingAcks.push({ partition, offset });
    if (this.pendingAcks.length >= this.options.maxBatch) this.flush();
    else this.timer.arm();
  }

  /** Sends everything pending now, as one request. */
  flush(): void {
    this.timer.disarm();
    if (this.pendingAcks.length === 0) return;
    const ranges = toRanges(this.pendingAcks);
    this.pendingAcks = [];
    this.options.send(ranges);
  }

  /**
   * Forgets what is pending without sending it: the stream they belong to
   * is gone, and the broker delivers those records again.
   */
  discard(): void {
    this.timer.disarm();
    this.pendingAcks = [];
  }
}
