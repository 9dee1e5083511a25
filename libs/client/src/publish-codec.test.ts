import { describe, expect, it } from 'vitest';
import { PublishStreamRequest, PublishStreamResponse } from '@braid/proto';
import type { PublishRequest } from '@braid/proto';
import { decodePublishStreamResponse, encodePublishStreamRequest } from './publish-codec.js';

function publish(overrides: Partial<PublishRequest> = {}): PublishRequest {
  return {
    topic: 'orders',
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: {}, partition: undefined, deliverAtMs: 0, delayMs: 0, redriveCount: 0 },
      { key: undefined, value: Buffer.alloc(300, 1), headers: { traceparent: '00-abc-01', 'ü': 'é', empty: '', '': 'x' }, partition: 0, deliverAtMs: 1_764_420_000_000, delayMs: 250, redriveCount: 2 },
      { key: Buffer.alloc(0), value: Buffer.alloc(0), headers: {}, partition: 7, deliverAtMs: 0, delayMs: 0, redriveCount: 0 },
    ],
    producerId: 'p-ü',
    partition: 0,
    baseSequence: Number.MAX_SAFE_INTEGER - 10,
    leaderEpoch: 7,
    targetSubscription: 'billing',
    ...overrides,
  };
}

describe('encodePublishStreamRequest', () => {
  const cases: [string, PublishStreamRequest][] = [
    ['a full request', { requestId: 2 ** 40, publish: publish() }],
    ['defaults left out', { requestId: 0, publish: publish({ topic: '', producerId: '', partition: undefined, baseSequence: 0, leaderEpoch: 0, targetSubscription: '', records: [] }) }],
    ['no publish', { requestId: 1, publish: undefined }],
    ['a negative number (the generated encoder takes it)', { requestId: 3, publish: publish({ baseSequence: -1 }) }],
    ['a negative record field', { requestId: 3, publish: publish({ records: [{ key: undefined, value: Buffer.from('v'), headers: {}, partition: -2, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }] }) }],
  ];
  for (const [name, request] of cases) {
    it(`writes the generated encoder's bytes: ${name}`, () => {
      const bytes = encodePublishStreamRequest(request);
      expect(bytes.equals(Buffer.from(PublishStreamRequest.encode(request).finish()))).toBe(true);
      expect(PublishStreamRequest.decode(bytes)).toEqual(request);
    });
  }
});

describe('decodePublishStreamResponse', () => {
  it('decodes results and errors as the generated decoder does', () => {
    const responses: PublishStreamResponse[] = [
      { requestId: 9, result: { $case: 'ok', value: { results: [{ partition: 3, offset: 0, duplicate: false }, { partition: 0, offset: Number.MAX_SAFE_INTEGER, duplicate: true }] } } },
      { requestId: 2 ** 40, result: { $case: 'ok', value: { results: [] } } },
      { requestId: 1, result: { $case: 'error', value: { code: 8, message: 'memory watermark', detail: undefined } } },
      { requestId: 0, result: undefined },
    ];
    for (const response of responses) {
      const bytes = Buffer.from(PublishStreamResponse.encode(response).finish());
      expect(decodePublishStreamResponse(bytes)).toEqual(PublishStreamResponse.decode(bytes));
    }
  });

  it('refuses truncated bytes', () => {
    const bytes = Buffer.from(PublishStreamResponse.encode({ requestId: 9, result: { $case: 'ok', value: { results: [{ partition: 3, offset: 12, duplicate: false }] } } }).finish());
    expect(() => decodePublishStreamResponse(bytes.subarray(0, bytes.length - 2))).toThrow(RangeError);
  });
});
