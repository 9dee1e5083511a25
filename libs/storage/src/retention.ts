/**
 * Retention: deletes records from the head of each partition, by age (their
 * timestamp is more than `maxAgeMs` in the past) and by size (the oldest
 * while `sizeBytes` exceeds `maxBytes`), and moves the log start with them
 * in the same synced batch. Only the head is trimmed and only below the high
 * watermark, so offsets stay dense and nothing pending is touched. A
 * background timer on the injected clock runs a pass every interval.
 */
import type { Clock, Logger } from '@braid/core';
import type { Database, WriteOp } from './database.js';
import { retentionDeleteChunk } from './defaults.js';
import { decodeLogKey, logOffsetRange } from './keys.js';
import { decodeLogValue } from './log-entry.js';
import type { PartitionLog } from './partition-log.js';

/** What a retention pass deleted. */
export interface RetentionReport {
  /** Partitions whose log start moved. */
  partitionsTrimmed: number;
  /** Records deleted. */
  recordsDeleted: number;
  /** Stored bytes deleted. */
  bytesDeleted: number;
}

/**
 * Applies `log`'s retention policy as of `nowMs`. Deletes in chunks of
 * `retentionDeleteChunk` records, each one synced batch; stops early when
 * `shouldStop()` turns true (the store is closing).
 */
export async function applyRetention(
  log: PartitionLog,
  db: Database,
  nowMs: number,
  shouldStop: () => boolean = () => false,
): Promise<{ records: number; bytes: number }> {
  const { maxAgeMs, maxBytes } = log.retention;
  let records = 0;
  let bytes = 0;
  if (maxAgeMs === 0 && maxBytes === 0) return { records, bytes };
  while (!shouldStop() && !log.isDropped) {
    const start = log.logStartOffset;
    const end = log.highWatermark;
    if (start >= end) break;
    let excess = maxBytes > 0 ? log.sizeBytes - maxBytes : 0;
    const deletes: WriteOp[] = [];
    let deletedBytes = 0;
    let newStart = start;
    const range = { ...logOffsetRange(log.topicId, log.partition, start, end), limit: retentionDeleteChunk };
    for await (const [key, value] of db.entries(range)) {
      const tooOld = maxAgeMs > 0 && nowMs - decodeLogValue(value).timestampMs > maxAgeMs;
      if (!tooOld && excess <= 0) break;
      const recordBytes = key.length + value.length;
      deletes.push({ type: 'del', key });
      deletedBytes += recordBytes;
      excess -= recordBytes;
      newStart = decodeLogKey(key).offset + 1;
    }
    if (deletes.length === 0) break;
    await log.trimHead(newStart, deletedBytes, deletes);
    records += deletes.length;
    bytes += deletedBytes;
    if (deletes.length < retentionDeleteChunk) break;
  }
  return { records, bytes };
}

/** Runs `pass` every `intervalMs` on `clock` until stopped. */
export class RetentionTimer {
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly pass: () => Promise<RetentionReport>,
    private readonly logger: Logger,
  ) {}

  /** Starts the timer; an interval of 0 means no timer. */
  start(): void {
    if (this.intervalMs > 0 && !this.loop) this.loop = this.run();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    for (;;) {
      try {
        await this.clock.sleep(this.intervalMs, this.abort.signal);
      } catch {
        return; // aborted: the store is closing
      }
      try {
        const report = await this.pass();
        if (report.recordsDeleted > 0) this.logger.info({ ...report }, 'retention deleted records');
      } catch (error) {
        this.logger.error({ err: error }, 'retention pass failed');
      }
    }
  }
}
