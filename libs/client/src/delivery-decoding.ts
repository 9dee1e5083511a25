/**
 * Decodes the Subscribe stream's responses, with a hand-written path for
 * delivery batches (the one message a consumer receives per batch of
 * records, so its decoding runs once per record).
 *
 * The generated decoder reads every int64 through a BigInt and a string
 * (`longToNumber`), builds each `StoredRecord` from a defaults object (with
 * an empty Buffer for its value) and counts its recursion depth on the
 * reader. Here int64 fields are read as numbers straight from the varint,
 * the topic string is decoded once per stream and reused while the bytes
 * repeat, and each record is one object literal. What comes out is the
 * generated types' shape (`SubscribeResponse` with `deliveries`), so the
 * rest of the SDK does not know which decoder ran. Keys and values are
 * copied out of the message, as the generated decoder does, so that a
 * message the application keeps does not pin the whole batch's buffer.
 *
 * Responses other than deliveries (`opened`, `notice`, `error`: a few per
 * stream) go to the generated decoder, as does anything this decoder does
 * not expect. Protobuf rules kept: unknown fields are skipped, a scalar
 * field seen twice keeps the last value, a message field seen twice is
 * merged, repeated fields append.
 */
import { SubscribeResponse as GeneratedSubscribeResponse } from '@braid/proto';
import type { Delivery, StoredRecord, SubscribeResponse } from '@braid/proto';

const wireVarint = 0;
const wire64 = 1;
const wireLengthDelimited = 2;
const wire32 = 5;

/** A cursor over one encoded message; throws `RangeError` on truncated or malformed input. */
class WireReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number: exact up to 2^53, `RangeError` beyond (as the generated `longToNumber`). */
  varint(): number {
    const { buf } = this;
    const start = this.pos;
    let byte = this.byte(buf);
    if (byte < 128) return byte;
    // The first four bytes fit in a 32-bit integer; later ones are scaled in floating point.
    let value = byte & 127;
    let shift = 7;
    for (; shift < 28; shift += 7) {
      byte = this.byte(buf);
      value |= (byte & 127) << shift;
      if (byte < 128) return value;
    }
    let scale = 2 ** 28;
    for (let i = 4; i < 10; i++) {
      byte = this.byte(buf);
      value += (byte & 127) * scale;
      if (byte < 128) {
        // Ten bytes with the top bit: a negative int64 (two's complement over 64 bits).
        if (i === 9 && byte === 1) return this.negative(start);
        if (!Number.isSafeInteger(value)) throw new RangeError('int64 value beyond Number.MAX_SAFE_INTEGER');
        return value;
      }
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** A length-delimited field's bounds; the cursor moves past it. */
  span(): [number, number] {
    const length = this.varint();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw new RangeError('length-delimited field runs past the end of its message');
    this.pos = end;
    return [start, end];
  }

  /** Skips a field of `wireType` (the tag was read). */
  skip(wireType: number): void {
    switch (wireType) {
      case wireVarint:
        this.varint();
        return;
      case wire64:
        this.advance(8);
        return;
      case wireLengthDelimited:
        this.span();
        return;
      case wire32:
        this.advance(4);
        return;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }

  /** A copy of bytes [start, end) (not a view: see the file comment). */
  copy(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    this.buf.copy(out, 0, start, end);
    return out;
  }

  text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }

  private byte(buf: Buffer): number {
    if (this.pos >= this.end) throw new RangeError('truncated varint');
    return buf[this.pos++] as number;
  }

  private advance(bytes: number): void {
    if (this.pos + bytes > this.end) throw new RangeError('truncated fixed-width field');
    this.pos += bytes;
  }

  /** The ten-byte varint at `start` as a signed 64-bit integer (exactly, through a BigInt: rare). */
  private negative(start: number): number {
    let bits = 0n;
    for (let i = 9; i >= 0; i--) bits = (bits << 7n) | BigInt((this.buf[start + i] as number) & 127);
    const value = Number(BigInt.asIntN(64, bits));
    if (!Number.isSafeInteger(value)) throw new RangeError('int64 value beyond Number.MIN_SAFE_INTEGER');
    return value;
  }
}

/** Decodes `SubscribeResponse`s; one per stream, as it remembers the last topic name. */
export class SubscribeResponseDecoder {
  private topicBytes: Buffer | undefined;
  private topic = '';

  /** The response in `bytes`: deliveries by hand, anything else by the generated decoder. */
  decode(bytes: Buffer): SubscribeResponse {
    const deliveries = this.deliveries(bytes);
    return deliveries ? { kind: { $case: 'deliveries', value: { deliveries } } } : GeneratedSubscribeResponse.decode(bytes);
  }

  /** The deliveries, when `bytes` holds only `deliveries` fields; undefined otherwise. */
  private deliveries(bytes: Buffer): Delivery[] | undefined {
    const reader = new WireReader(bytes, 0, bytes.length);
    let deliveries: Delivery[] | undefined;
    while (reader.pos < reader.end) {
      // SubscribeResponse.deliveries = 2, length-delimited.
      if (reader.varint() !== ((2 << 3) | wireLengthDelimited)) return undefined;
      const [start, end] = reader.span();
      deliveries = this.batch(new WireReader(bytes, start, end), deliveries ?? []);
    }
    return deliveries;
  }

  /** A `DeliveryBatch`: `deliveries = 1`, repeated. */
  private batch(reader: WireReader, into: Delivery[]): Delivery[] {
    while (reader.pos < reader.end) {
      const tag = reader.varint();
      if (tag !== ((1 << 3) | wireLengthDelimited)) {
        reader.skip(tag & 7);
        continue;
      }
      const [start, end] = reader.span();
      into.push(this.delivery(new WireReader(reader.buf, start, end)));
    }
    return into;
  }

  /** A `Delivery`: record = 1, attempt = 2, lease_deadline_ms = 3, redrive_count = 4. */
  private delivery(reader: WireReader): Delivery {
    const delivery: Delivery = { record: undefined, attempt: 0, leaseDeadlineMs: 0, redriveCount: 0 };
    while (reader.pos < reader.end) {
      const tag = reader.varint();
      switch (tag) {
        case (1 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          delivery.record = this.record(new WireReader(reader.buf, start, end), delivery.record);
          break;
        }
        case (2 << 3) | wireVarint:
          delivery.attempt = reader.varint() | 0;
          break;
        case (3 << 3) | wireVarint:
          delivery.leaseDeadlineMs = reader.varint();
          break;
        case (4 << 3) | wireVarint:
          delivery.redriveCount = reader.varint() | 0;
          break;
        default:
          reader.skip(tag & 7);
      }
    }
    return delivery;
  }

  /**
   * A `StoredRecord`: topic = 1, partition = 2, offset = 3, key = 4, value = 5,
   * headers = 6 (map entries), publish_time_ms = 7, deliver_at_ms = 8,
   * target_subscription = 9, redrive_count = 10. Merged into `into` if the
   * field came before.
   */
  private record(reader: WireReader, into: StoredRecord | undefined): StoredRecord {
    const record: StoredRecord = into ?? {
      topic: '',
      partition: 0,
      offset: 0,
      key: undefined,
      value: emptyValue,
      headers: {},
      publishTimeMs: 0,
      deliverAtMs: 0,
      targetSubscription: '',
      redriveCount: 0,
    };
    while (reader.pos < reader.end) {
      const tag = reader.varint();
      switch (tag) {
        case (1 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          record.topic = this.topicName(reader.buf, start, end);
          break;
        }
        case (2 << 3) | wireVarint:
          record.partition = reader.varint() | 0;
          break;
        case (3 << 3) | wireVarint:
          record.offset = reader.varint();
          break;
        case (4 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          record.key = reader.copy(start, end);
          break;
        }
        case (5 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          record.value = reader.copy(start, end);
          break;
        }
        case (6 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          header(new WireReader(reader.buf, start, end), record.headers);
          break;
        }
        case (7 << 3) | wireVarint:
          record.publishTimeMs = reader.varint();
          break;
        case (8 << 3) | wireVarint:
          record.deliverAtMs = reader.varint();
          break;
        case (9 << 3) | wireLengthDelimited: {
          const [start, end] = reader.span();
          record.targetSubscription = reader.text(start, end);
          break;
        }
        case (10 << 3) | wireVarint:
          record.redriveCount = reader.varint() | 0;
          break;
        default:
          reader.skip(tag & 7);
      }
    }
    return record;
  }

  /** The topic name at [start, end): the last one's string while the bytes are the same. */
  private topicName(buf: Buffer, start: number, end: number): string {
    const last = this.topicBytes;
    if (last?.length === end - start) {
      let same = true;
      for (let i = 0; i < last.length; i++) {
        if (last[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.topic;
    }
    this.topicBytes = Buffer.from(buf.subarray(start, end));
    this.topic = buf.toString('utf8', start, end);
    return this.topic;
  }
}

/** The value of a record without one (shared: Buffers of length 0 hold nothing to change). */
const emptyValue = Buffer.alloc(0);

/** A headers map entry (key = 1, value = 2) into `headers`; an entry without a value is kept with "" as the generated decoder does. */
function header(reader: WireReader, headers: Record<string, string>): void {
  let key = '';
  let value = '';
  while (reader.pos < reader.end) {
    const tag = reader.varint();
    if (tag === ((1 << 3) | wireLengthDelimited)) {
      const [start, end] = reader.span();
      key = reader.text(start, end);
    } else if (tag === ((2 << 3) | wireLengthDelimited)) {
      const [start, end] = reader.span();
      value = reader.text(start, end);
    } else {
      reader.skip(tag & 7);
    }
  }
  headers[key] = value;
}
