/**
 * Idempotent-producer state of one (partition, producer): the last few
 * batches it appended, so a retried batch is recognised and answered with
 * its original offsets instead of being appended twice (Kafka's
 * `ProducerStateManager` keeps the last five batches per producer the same
 * way).
 *
 * Encoding: `[version u8 = 1][n u8]` then n x `[baseSequence u64][count u32][baseOffset u64]`, oldest first.
 */
import { InvalidArgumentError } from '@braid/core';
import { producerBatchesRemembered } from './defaults.js';
import { readU64, writeU64 } from './u64.js';

const VERSION = 1;
const BATCH_BYTES = 8 + 4 + 8;

/** One appended batch of a producer. */
export interface ProducerBatch {
  /** Sequence number of the batch's first record. */
  baseSequence: number;
  /** Records in the batch. */
  count: number;
  /** Offset of the batch's first record. */
  baseOffset: number;
}

/** Where a sequence check happens, for error messages and metadata. */
export interface ProducerContext {
  topicId: number;
  partition: number;
  producerId: string;
}

/** The `reason` metadata of a rejected sequence number. */
export const OUT_OF_ORDER_SEQUENCE = 'OUT_OF_ORDER_SEQUENCE';

/** The remembered batches of one producer on one partition. */
export class ProducerState {
  private readonly batches: ProducerBatch[];

  /** A state remembering `batches` (oldest first; only the last five are kept). */
  constructor(batches: readonly ProducerBatch[] = []) {
    this.batches = batches.slice(-producerBatchesRemembered);
  }

  /** The remembered batches, oldest first. */
  get remembered(): readonly ProducerBatch[] {
    return this.batches;
  }

  /** Sequence number the next batch must start at, or undefined for a producer never seen. */
  get nextSequence(): number | undefined {
    const last = this.batches.at(-1);
    return last ? last.baseSequence + last.count : undefined;
  }

  /**
   * Checks a batch of `count` records starting at `baseSequence`. Returns the
   * remembered batch when it is a retry of one (same base sequence and
   * count), undefined when it is the next batch and should be appended.
   * Throws `InvalidArgumentError` (metadata `reason: OUT_OF_ORDER_SEQUENCE`)
   * for anything else: a gap, or an old sequence that is not a remembered
   * batch.
   */
  check(baseSequence: number, count: number, context: ProducerContext): ProducerBatch | undefined {
    const expected = this.nextSequence;
    if (expected === undefined || baseSequence === expected) return undefined;
    const duplicate = this.batches.find((b) => b.baseSequence === baseSequence && b.count === count);
    if (duplicate) return duplicate;
    const what = baseSequence > expected ? 'a gap' : 'an old sequence that matches no recent batch';
    throw new InvalidArgumentError(
      `out of order sequence for producer "${context.producerId}" on topic ${context.topicId} partition ${context.partition}: ` +
        `expected base sequence ${expected}, got ${baseSequence} (${count} records; ${what})`,
      {
        metadata: {
          reason: OUT_OF_ORDER_SEQUENCE,
          producerId: context.producerId,
          topicId: String(context.topicId),
          partition: String(context.partition),
          expectedSequence: String(expected),
          gotSequence: String(baseSequence),
        },
      },
    );
  }

  /** Remembers an appended batch, forgetting the oldest beyond five. */
  record(batch: ProducerBatch): void {
    this.batches.push(batch);
    if (this.batches.length > producerBatchesRemembered) this.batches.shift();
  }

  /** Encodes the state for the producer key's value. */
  encode(): Buffer {
    const value = Buffer.allocUnsafe(2 + this.batches.length * BATCH_BYTES);
    value[0] = VERSION;
    value[1] = this.batches.length;
    this.batches.forEach((b, i) => {
      const at = 2 + i * BATCH_BYTES;
      writeU64(value, b.baseSequence, at);
      value.writeUInt32BE(b.count, at + 8);
      writeU64(value, b.baseOffset, at + 12);
    });
    return value;
  }

  /** Decodes a stored state; throws on an unknown version. */
  static decode(value: Buffer): ProducerState {
    const n = value[1] ?? 0;
    if (value[0] !== VERSION || value.length !== 2 + n * BATCH_BYTES) {
      throw new RangeError(`unknown producer state encoding (version ${value[0] ?? 'none'}, ${value.length} bytes)`);
    }
    const batches: ProducerBatch[] = [];
    for (let i = 0; i < n; i++) {
      const at = 2 + i * BATCH_BYTES;
      batches.push({ baseSequence: readU64(value, at), count: value.readUInt32BE(at + 8), baseOffset: readU64(value, at + 12) });
    }
    return new ProducerState(batches);
  }
}
