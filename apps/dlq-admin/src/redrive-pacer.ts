/**
 * Paces a bulk redrive at `records_per_second` with a token bucket from
 * `@braid/flow`. Records go in chunks of a tenth of a second's worth (at
 * most 100, at least 1), and the bucket holds one chunk, so the rate holds
 * from the first second on instead of a full second's burst up front: at
 * 1,000/s, 10,000 records take ~9.9 s.
 */
import type { Clock } from '@braid/core';
import { TokenBucket } from '@braid/flow';

/** Largest chunk a paced redrive hands out. */
export const maxChunkRecords = 100;
/**
 * Chunk of an unlimited redrive: each chunk costs two synced overlay
 * writes, so larger chunks go faster.
 */
export const unlimitedChunkRecords = 500;

/** See the file comment. */
export class RedrivePacer {
  /** Records per chunk: ask `admit` for at most this many at a time. */
  readonly chunkRecords: number;
  private readonly bucket: TokenBucket | undefined;

  /**
   * @param recordsPerSecond - positive rate; 0 or `Infinity`: unlimited.
   * @throws RangeError for a negative or NaN rate.
   */
  constructor(recordsPerSecond: number, clock: Clock) {
    if (!(recordsPerSecond >= 0)) throw new RangeError(`records per second must be >= 0, got ${String(recordsPerSecond)}`);
    const unlimited = recordsPerSecond === 0 || recordsPerSecond === Number.POSITIVE_INFINITY;
    this.chunkRecords = unlimited ? unlimitedChunkRecords : Math.max(1, Math.min(maxChunkRecords, Math.floor(recordsPerSecond / 10)));
    this.bucket = unlimited ? undefined : new TokenBucket({ rate: recordsPerSecond, burst: this.chunkRecords, clock });
  }

  /** Waits until `records` (at most `chunkRecords`) may go. */
  async admit(records: number, signal?: AbortSignal): Promise<void> {
    if (this.bucket === undefined || records === 0) return;
    await this.bucket.take(Math.min(records, this.chunkRecords), signal);
  }
}
