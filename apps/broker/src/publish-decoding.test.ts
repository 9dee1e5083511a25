import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { PublishRequest, PublishStreamRequest } from '@braid/proto';
import { decodePublishRequest, decodePublishStreamRequest } from './publish-decoding.js';

function request(overrides: Partial<PublishRequest> = {}): PublishRequest {
  return {
    topic: 'orders',
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: {}, partition: undefined, deliverAtMs: 0, delayMs: 0, redriveCount: 0 },
      { key: undefined, value: Buffer.from('v2'), headers: { traceparent: '00-abc-01', 'ü': 'é', empty: '' }, partition: 3, deliverAtMs: 1_764_420_000_000, delayMs: 250, redriveCount: 2 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: {}, partition: -1, deliverAtMs: -5, delayMs: 0, redriveCount: 0 },
    ],
    producerId: 'p-1',
    partition: 0,
    baseSequence: Number.MAX_SAFE_INTEGER - 10,
    leaderEpoch: 7,
    targetSubscription: 'billing',
    ...overrides,
  };
}

describe('publish request decoding', () => {
  it('decodes Publish requests as the generated decoder does', () => {
    for (const value of [request(), request({ partition: undefined, producerId: '', baseSequence: -1, targetSubscription: '' }), request({ records: [] })]) {
      const bytes = Buffer.from(PublishRequest.encode(value).finish());
      expect(decodePublishRequest(bytes)).toEqual(PublishRequest.decode(bytes));
    }
  });

  it('decodes PublishStream requests as the generated decoder does', () => {
    for (const value of [{ requestId: 42, publish: request() }, { requestId: 0, publish: undefined }]) {
      const bytes = Buffer.from(PublishStreamRequest.encode(value).finish());
      expect(decodePublishStreamRequest(bytes)).toEqual(PublishStreamRequest.decode(bytes));
    }
  });

  it('skips unknown fields and keeps keys and values as views of the request', () => {
    const unknown = new BinaryWriter().uint32((20 << 3) | 0).uint64(9).uint32((21 << 3) | 1).fixed64(1).uint32((22 << 3) | 2).string('x').uint32((23 << 3) | 5).fixed32(2).finish();
    const inner = Buffer.concat([PublishRequest.encode(request()).finish(), unknown]);
    const bytes = Buffer.from(new BinaryWriter().uint32((1 << 3) | 0).uint64(5).uint32((2 << 3) | 2).bytes(inner).finish());
    const decoded = decodePublishStreamRequest(bytes);
    expect(decoded).toEqual({ requestId: 5, publish: request() });
    const value = decoded.publish?.records[0]?.value;
    expect(value?.buffer).toBe(bytes.buffer);
  });

  it('merges a publish field that comes twice and appends its records', () => {
    const first = PublishRequest.encode(request({ targetSubscription: '' })).finish();
    const second = PublishRequest.encode({ topic: 'orders', records: [request().records[0]!], producerId: '', partition: undefined, baseSequence: 0, leaderEpoch: 8, targetSubscription: '' }).finish();
    const bytes = Buffer.from(new BinaryWriter().uint32((2 << 3) | 2).bytes(first).uint32((2 << 3) | 2).bytes(second).finish());
    const decoded = decodePublishStreamRequest(bytes).publish;
    expect(decoded?.records).toHaveLength(4);
    expect(decoded).toMatchObject({ topic: 'orders', producerId: 'p-1', leaderEpoch: 8, baseSequence: Number.MAX_SAFE_INTEGER - 10 });
  });

  it('throws on truncated bytes (the server answers INVALID_ARGUMENT)', () => {
    const bytes = Buffer.from(PublishStreamRequest.encode({ requestId: 1, publish: request() }).finish());
    expect(() => decodePublishStreamRequest(bytes.subarray(0, bytes.length - 4))).toThrow(RangeError);
    expect(() => decodePublishRequest(Buffer.from([0x12, 0x05, 0x0a]))).toThrow(RangeError);
  });
});
