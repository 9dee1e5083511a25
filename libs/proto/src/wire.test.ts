import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { describe, expect, it } from 'vitest';
import { WireReader, varintSize, writeVarint } from './wire.js';

describe('wire helpers', () => {
  it('write varints as the protobuf runtime does, and size them', () => {
    for (const value of [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 + 3, Number.MAX_SAFE_INTEGER]) {
      const expected = new BinaryWriter().uint64(value).finish();
      const out = new Uint8Array(10);
      expect(writeVarint(out, 0, value)).toBe(expected.length);
      expect(out.subarray(0, expected.length)).toEqual(expected);
      expect(varintSize(value)).toBe(expected.length);
    }
  });

  it('read varints exactly up to 2^53, negatives included, and refuse what a number cannot hold', () => {
    const writer = new BinaryWriter();
    const values = [0, 1, 300, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
    for (const value of values) writer.uint64(value);
    writer.int64(-1).int64(-300).int64(Number.MIN_SAFE_INTEGER).int32(-7);
    const reader = new WireReader(Buffer.from(writer.finish()));
    for (const value of values) expect(reader.varint()).toBe(value);
    expect([reader.varint(), reader.varint(), reader.varint(), reader.int32()]).toEqual([-1, -300, Number.MIN_SAFE_INTEGER, -7]);
    expect(reader.more).toBe(false);
    expect(() => new WireReader(Buffer.from(new BinaryWriter().uint64('9007199254740992').finish())).varint()).toThrow(/MAX_SAFE_INTEGER/);
    expect(() => new WireReader(Buffer.from(new BinaryWriter().int64('-9007199254740993').finish())).varint()).toThrow(/MIN_SAFE_INTEGER/);
    expect(() => new WireReader(Buffer.from([0x80, 0x80])).varint()).toThrow(/truncated/);
  });

  it('read and skip length-delimited and fixed-width fields within their message', () => {
    const bytes = Buffer.from(new BinaryWriter().uint32(10).string('héllo').uint32(17).fixed64(5).uint32(29).fixed32(6).uint32(34).bytes(Buffer.from([1, 2, 3])).finish());
    const reader = new WireReader(bytes);
    expect(reader.varint()).toBe(10);
    expect(reader.string()).toBe('héllo');
    reader.skip(reader.varint() & 7);
    reader.skip(reader.varint() & 7);
    expect(reader.varint()).toBe(34);
    const view = reader.bytesView();
    expect([...view]).toEqual([1, 2, 3]);
    expect(view.buffer).toBe(bytes.buffer);
    expect(reader.more).toBe(false);
    // A field that claims more bytes than its message holds.
    expect(() => new WireReader(Buffer.from([0x0a, 0x05, 0x61])).message()).toThrow(/past the end/);
  });
});
