/**
 * Gathers one topic's records into batches per partition (Kafka's
 * RecordAccumulator). A batch is sealed and handed on when it reaches
 * `maxBatchRecords` or `maxBatchBytes`, or when `lingerMs` has passed since
 * its first record. With `lingerMs: 0` (and during `flush()`) batches are
 * sealed at the end of the current tick, so records sent together in one
 * synchronous burst still share a batch.
 */
import type { Clock } from '@braid/core';
import type { Record as ProtoRecord } from '@braid/proto';
import { ProducerBatch } from './producer-batch.js';
import type { SendCompletion } from './send-completion.js';

/** Options of {@link RecordAccumulator}. */
export interface RecordAccumulatorOptions {
  /** The topic. */
  topic: string;
  /** Wait for more records this long after a batch's first one, in ms. */
  lingerMs: number;
  /** Seal a batch at this many records. */
  maxBatchRecords: number;
  /** Seal a batch before it would exceed this many bytes. */
  maxBatchBytes: number;
  /** Time source for linger and batch age. */
  clock: Clock;
  /** Gives a record's bytes back to the producer's buffer when its batch ends. */
  release: (bytes: number) => void;
  /** Receives each sealed batch, per partition in order. */
  onSealed: (batch: ProducerBatch) => void;
  /** While true, batches do not linger (a `flush()` is waiting). */
  urgent: () => boolean;
}

/** Open batches of one topic, one per partition. */
export class RecordAccumulator {
  private readonly open: (ProducerBatch | undefined)[] = [];
  private dueNow: ProducerBatch[] = [];
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly options: RecordAccumulatorOptions) {}

  /** Adds record `index` of `completion` to `partition`'s open batch, sealing batches as they fill. */
  append(partition: number, record: ProtoRecord, size: number, completion: SendCompletion, index: number): void {
    const { maxBatchRecords, maxBatchBytes } = this.options;
    let batch = this.open[partition];
    if (batch && batch.bytes + size > maxBatchBytes) {
      this.seal(batch);
      batch = undefined;
    }
    if (!batch) {
      batch = new ProducerBatch(this.options.topic, partition, this.options.clock.now(), this.options.release);
      this.open[partition] = batch;
      this.scheduleLinger(batch);
    }
    batch.add(record, size, completion, index);
    if (batch.count >= maxBatchRecords || batch.bytes >= maxBatchBytes) this.seal(batch);
  }

  /** Seals every open batch now. */
  sealAll(): void {
    for (const batch of this.open) if (batch) this.seal(batch);
  }

  /** Removes every open batch without sealing it and returns them (for the caller to fail). */
  takeAll(): ProducerBatch[] {
    const batches = this.open.filter((b): b is ProducerBatch => b !== undefined);
    this.open.length = 0;
    this.dueNow = [];
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    return batches;
  }

  private scheduleLinger(batch: ProducerBatch): void {
    const { lingerMs, clock } = this.options;
    if (lingerMs <= 0 || this.options.urgent()) {
      this.dueNow.push(batch);
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        const due = this.dueNow;
        this.dueNow = [];
        for (const b of due) this.seal(b);
      });
      return;
    }
    // Not cancelled when the batch is sealed earlier (aborting costs more
    // than a timer firing into a batch that is no longer open).
    void clock.sleep(lingerMs).then(() => { this.seal(batch); });
  }

  private seal(batch: ProducerBatch): void {
    if (this.open[batch.partition] !== batch) return;
    this.open[batch.partition] = undefined;
    this.options.onSealed(batch);
  }
}
