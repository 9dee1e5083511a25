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
import { SubscribeResponse as GeneratedSubscribeResponse, WireReader, fieldTag, wireLengthDelimited, wireVarint } from '@braid/proto';
import type { Delivery, StoredRecord, SubscribeResponse } from '@braid/proto';

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
    const reader = new WireReader(bytes);
    let deliveries: Delivery[] | undefined;
    while (reader.more) {
      // SubscribeResponse.deliveries = 2.
      if (reader.varint() !== fieldTag(2, wireLengthDelimited)) return undefined;
      deliveries = this.batch(reader.message(), deliveries ?? []);
    }
    return deliveries;
  }

  /** A `DeliveryBatch`: `deliveries = 1`, repeated. */
  private batch(reader: WireReader, into: Delivery[]): Delivery[] {
    while (reader.more) {
      const tag = reader.varint();
      if (tag === fieldTag(1, wireLengthDelimited)) into.push(this.delivery(reader.message()));
      else reader.skip(tag & 7);
    }
    return into;
  }

  /** A `Delivery`: record = 1, attempt = 2, lease_deadline_ms = 3, redrive_count = 4. */
  private delivery(reader: WireReader): Delivery {
    const delivery: Delivery = { record: undefined, attempt: 0, leaseDeadlineMs: 0, redriveCount: 0 };
    while (reader.more) {
      const tag = reader.varint();
      switch (tag) {
        case fieldTag(1, wireLengthDelimited):
          delivery.record = this.record(reader.message(), delivery.record);
          break;
        case fieldTag(2, wireVarint):
          delivery.attempt = reader.int32();
          break;
        case fieldTag(3, wireVarint):
          delivery.leaseDeadlineMs = reader.varint();
          break;
        case fieldTag(4, wireVarint):
          delivery.redriveCount = reader.int32();
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
    while (reader.more) {
      const tag = reader.varint();
      switch (tag) {
        case fieldTag(1, wireLengthDelimited): {
          const start = reader.delimited();
          record.topic = this.topicName(reader.buf, start, reader.pos);
          break;
        }
        case fieldTag(2, wireVarint):
          record.partition = reader.int32();
          break;
        case fieldTag(3, wireVarint):
          record.offset = reader.varint();
          break;
        case fieldTag(4, wireLengthDelimited):
          record.key = reader.bytesCopy();
          break;
        case fieldTag(5, wireLengthDelimited):
          record.value = reader.bytesCopy();
          break;
        case fieldTag(6, wireLengthDelimited):
          reader.stringMapEntry(record.headers);
          break;
        case fieldTag(7, wireVarint):
          record.publishTimeMs = reader.varint();
          break;
        case fieldTag(8, wireVarint):
          record.deliverAtMs = reader.varint();
          break;
        case fieldTag(9, wireLengthDelimited):
          record.targetSubscription = reader.string();
          break;
        case fieldTag(10, wireVarint):
          record.redriveCount = reader.int32();
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
