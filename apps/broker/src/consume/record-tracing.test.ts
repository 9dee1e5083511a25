import { describe, expect, it } from 'vitest';
import { encodeStoredRecord } from '../record-codec.js';
import { storedTraceparent } from './record-tracing.js';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function stored(headers: Record<string, string>): Buffer {
  return encodeStoredRecord({ key: Buffer.from('k'), value: Buffer.from('v'.repeat(300)), headers, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }, 1_700_000_000_000);
}

describe('storedTraceparent', () => {
  it('finds the traceparent among other headers of a stored record, without decoding the rest', () => {
    expect(storedTraceparent(stored({ a: '1', traceparent, tracestate: 'x=1', z: '2' }))).toBe(traceparent);
  });

  it('is undefined for a record without one', () => {
    expect(storedTraceparent(stored({ a: '1' }))).toBeUndefined();
    expect(storedTraceparent(stored({}))).toBeUndefined();
  });
});
