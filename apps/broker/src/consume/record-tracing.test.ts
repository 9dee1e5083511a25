import { describe, expect, it } from 'vitest';
import { encodeStoredRecord } from '../record-codec.js';
import { storedTraceparent } from './record-tracing.js';

const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function stored(headers: Record<string, string>, value = 'v'.repeat(300)): Buffer {
  return encodeStoredRecord({ key: Buffer.from('k'), value: Buffer.from(value), headers, deliverAtMs: 0, delayMs: 0, redriveCount: 0 }, 1_700_000_000_000);
}

describe('storedTraceparent', () => {
  it('finds the traceparent among other headers of a stored record, without decoding the rest', () => {
    expect(storedTraceparent(stored({ a: '1', traceparent, tracestate: 'x=1', z: '2' }))).toBe(traceparent);
  });

  it('is undefined for a record without one', () => {
    expect(storedTraceparent(stored({ a: '1' }))).toBeUndefined();
    expect(storedTraceparent(stored({}))).toBeUndefined();
  });

  it('is not fooled by the name in the value or in another header', () => {
    expect(storedTraceparent(stored({ note: 'traceparent' }, `{"traceparent":"${traceparent}"}`))).toBeUndefined();
    expect(storedTraceparent(stored({ traceparent }, 'traceparent'))).toBe(traceparent);
  });

  it('reads a record that is a view into a larger buffer', () => {
    const record = stored({ traceparent });
    const larger = Buffer.concat([Buffer.from('traceparent-prefix'), record]);
    expect(storedTraceparent(larger.subarray(18))).toBe(traceparent);
    expect(storedTraceparent(new Uint8Array(stored({ a: '1' })))).toBeUndefined();
  });

  it('gives up on malformed bytes instead of reading past them', () => {
    const record = stored({ traceparent });
    for (let cut = 0; cut < record.length; cut += 7) {
      const found = storedTraceparent(record.subarray(0, cut));
      expect(found === undefined || traceparent.startsWith(found)).toBe(true);
    }
    expect(storedTraceparent(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBeUndefined();
    expect(storedTraceparent(Buffer.from([0x33, 0x01]))).toBeUndefined();
  });
});
