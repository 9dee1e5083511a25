import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { NoticeType, StoredRecord, SubscribeResponse } from '@braid/proto';
import type { Delivery } from '@braid/proto';
import { SubscribeResponseDecoder } from './delivery-decoding.js';

function record(overrides: Partial<StoredRecord> = {}): StoredRecord {
  return {
    topic: 'orders',
    partition: 3,
    offset: 41,
    key: Buffer.from('customer-7'),
    value: Buffer.from('{"total":12}'),
    headers: {},
    publishTimeMs: 1_764_420_000_123,
    deliverAtMs: 0,
    targetSubscription: '',
    redriveCount: 0,
    ...overrides,
  };
}

function encoded(deliveries: Delivery[]): Buffer {
  return Buffer.from(SubscribeResponse.encode({ kind: { $case: 'deliveries', value: { deliveries } } }).finish());
}

/** `SubscribeResponse { deliveries { deliveries: [<delivery bytes>] } }` around hand-made delivery bytes. */
function wrapped(...deliveryBytes: Uint8Array[]): Buffer {
  const batch = new BinaryWriter();
  for (const bytes of deliveryBytes) batch.uint32((1 << 3) | 2).bytes(bytes);
  return Buffer.from(new BinaryWriter().uint32((2 << 3) | 2).bytes(batch.finish()).finish());
}

describe('SubscribeResponseDecoder', () => {
  it('decodes delivery batches exactly as the generated decoder does', () => {
    const deliveries: Delivery[] = [
      { record: record(), attempt: 1, leaseDeadlineMs: 1_764_420_030_000, redriveCount: 0 },
      { record: record({ offset: 42, key: undefined, headers: { traceparent: '00-abc-01', 'ü': 'é', empty: '' } }), attempt: 3, leaseDeadlineMs: 5, redriveCount: 2 },
      // Another topic in between: the remembered topic name must not leak into it.
      { record: record({ topic: 'payments', offset: Number.MAX_SAFE_INTEGER, deliverAtMs: 1_764_420_060_000, targetSubscription: 'search', redriveCount: 1 }), attempt: 2, leaseDeadlineMs: 0, redriveCount: 1 },
      { record: record({ offset: 43, value: Buffer.alloc(0), partition: -1 }), attempt: 1, leaseDeadlineMs: -5, redriveCount: 0 },
      { record: undefined, attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 },
    ];
    const bytes = encoded(deliveries);
    const decoded = new SubscribeResponseDecoder().decode(bytes);
    expect(decoded).toEqual(SubscribeResponse.decode(bytes));
    expect(decoded.kind?.$case === 'deliveries' && decoded.kind.value.deliveries.map((d) => [d.record?.topic, d.record?.partition, d.leaseDeadlineMs])).toEqual([
      ['orders', 3, 1_764_420_030_000],
      ['orders', 3, 5],
      ['payments', 3, 0],
      ['orders', -1, -5],
      [undefined, undefined, 0],
    ]);
  });

  it('reuses one topic string across batches and still notices a new topic', () => {
    const decoder = new SubscribeResponseDecoder();
    const topicsOf = (bytes: Buffer) => {
      const response = decoder.decode(bytes);
      return response.kind?.$case === 'deliveries' ? response.kind.value.deliveries.map((d) => d.record?.topic) : [];
    };
    expect(topicsOf(encoded([{ record: record({ topic: 'abc' }), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]))).toEqual(['abc']);
    expect(topicsOf(encoded([{ record: record({ topic: 'abd' }), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]))).toEqual(['abd']);
    expect(topicsOf(encoded([{ record: record({ topic: 'abdx' }), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]))).toEqual(['abdx']);
    expect(topicsOf(encoded([{ record: record({ topic: 'abdx' }), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]))).toEqual(['abdx']);
  });

  it('merges a record whose fields come in two encodings (the broker appends partition and offset to the stored bytes) and keeps the last value of a repeated scalar', () => {
    const stored = StoredRecord.encode(record({ topic: '', partition: 0, offset: 0, redriveCount: 1 })).finish();
    const appended = new BinaryWriter().uint32((1 << 3) | 2).string('orders').uint32((2 << 3) | 0).int32(6).uint32((3 << 3) | 0).int64(90).uint32((3 << 3) | 0).int64(91).finish();
    const recordBytes = Buffer.concat([stored, appended]);
    // The record field twice in one delivery: protobuf merges the two.
    const delivery = new BinaryWriter()
      .uint32((1 << 3) | 2).bytes(recordBytes.subarray(0, stored.length))
      .uint32((2 << 3) | 0).int32(4)
      .uint32((1 << 3) | 2).bytes(appended)
      .finish();
    const bytes = wrapped(delivery);
    const decoded = new SubscribeResponseDecoder().decode(bytes);
    // As the protobuf spec has it (the generated decoder keeps only the second occurrence).
    expect(decoded.kind?.$case === 'deliveries' && decoded.kind.value.deliveries[0]).toEqual({
      attempt: 4,
      leaseDeadlineMs: 0,
      redriveCount: 0,
      record: record({ partition: 6, offset: 91, redriveCount: 1 }),
    });
    // One occurrence of concatenated encodings is what the broker sends; both decoders agree on it.
    const once = wrapped(new BinaryWriter().uint32((1 << 3) | 2).bytes(recordBytes).uint32((2 << 3) | 0).int32(4).finish());
    expect(new SubscribeResponseDecoder().decode(once)).toEqual(SubscribeResponse.decode(once));
  });

  it('skips fields it does not know, of every wire type', () => {
    const unknown = new BinaryWriter()
      .uint32((20 << 3) | 0).uint64(123_456_789_012)
      .uint32((21 << 3) | 1).fixed64(7)
      .uint32((22 << 3) | 2).bytes(Buffer.from('future'))
      .uint32((23 << 3) | 5).fixed32(9)
      .finish();
    const recordBytes = Buffer.concat([StoredRecord.encode(record()).finish(), unknown]);
    const delivery = Buffer.concat([new BinaryWriter().uint32((1 << 3) | 2).bytes(recordBytes).uint32((2 << 3) | 0).int32(1).finish(), unknown]);
    const batch = new BinaryWriter().uint32((1 << 3) | 2).bytes(delivery).finish();
    const bytes = Buffer.from(new BinaryWriter().uint32((2 << 3) | 2).bytes(Buffer.concat([batch, unknown])).finish());
    const decoded = new SubscribeResponseDecoder().decode(bytes);
    expect(decoded).toEqual(SubscribeResponse.decode(bytes));
    expect(decoded.kind?.$case === 'deliveries' && decoded.kind.value.deliveries[0]?.record).toEqual(record());
  });

  it('copies keys and values out of the message buffer', () => {
    const bytes = encoded([{ record: record(), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]);
    const decoded = new SubscribeResponseDecoder().decode(bytes);
    bytes.fill(0);
    expect(decoded.kind?.$case === 'deliveries' && decoded.kind.value.deliveries[0]?.record).toMatchObject({ key: Buffer.from('customer-7'), value: Buffer.from('{"total":12}') });
  });

  it('leaves other responses to the generated decoder', () => {
    const decoder = new SubscribeResponseDecoder();
    const responses: SubscribeResponse[] = [
      { kind: { $case: 'opened', value: { memberId: 'm-1', config: undefined, partitions: [0, 2] } } },
      { kind: { $case: 'notice', value: { type: NoticeType.NOTICE_TYPE_LEASE_EXPIRED, message: 'late', partitions: [1], ranges: [{ partition: 1, first: 4, last: 9 }] } } },
      { kind: { $case: 'error', value: { code: 5, message: 'no such offset', detail: undefined } } },
      {},
    ];
    for (const response of responses) {
      const bytes = Buffer.from(SubscribeResponse.encode(response).finish());
      expect(decoder.decode(bytes)).toEqual(SubscribeResponse.decode(bytes));
    }
  });

  it('refuses truncated input and int64 values a number cannot hold', () => {
    const decoder = new SubscribeResponseDecoder();
    const bytes = encoded([{ record: record(), attempt: 1, leaseDeadlineMs: 0, redriveCount: 0 }]);
    expect(() => decoder.decode(bytes.subarray(0, bytes.length - 3))).toThrow(RangeError);
    const huge = new BinaryWriter().uint32((3 << 3) | 0).uint64('18014398509481984').finish(); // 2^54
    expect(() => decoder.decode(wrapped(huge))).toThrow(/MAX_SAFE_INTEGER/);
    expect(() => SubscribeResponse.decode(wrapped(huge))).toThrow(/MAX_SAFE_INTEGER/);
  });
});
