/**
 * Protobuf wire format by hand, for the few messages that are encoded or
 * decoded once per record (publish requests on the broker, stored records,
 * delivery batches in the SDK). The generated code reads every int64
 * through a BigInt and a string and builds each message from a defaults
 * object; on those paths that was a visible share of the CPU. Everything
 * else uses the generated code.
 *
 * Numbers are JavaScript numbers: varints are exact up to 2^53 and refused
 * beyond it (as the generated `longToNumber` does); a negative int64 or
 * int32 (a ten-byte varint) is read exactly.
 */

/** Wire types. */
export const wireVarint = 0;
export const wire64 = 1;
export const wireLengthDelimited = 2;
export const wire32 = 5;

/** The tag of field `field` with wire type `wireType`. */
export function fieldTag(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

/** Bytes of `value` (a non-negative safe integer) as a varint. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size++;
  }
  return size;
}

/** Writes `value` (a non-negative safe integer) as a varint at `at`; returns where the next byte goes. */
export function writeVarint(target: Uint8Array, at: number, value: number): number {
  // Division keeps values above 2^31 exact, where bit operators would not.
  while (value >= 128) {
    target[at++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  target[at++] = value;
  return at;
}

/** Bytes of a varint field (one-byte tag + value), 0 for 0 (proto3 leaves it out). */
export function varintFieldSize(value: number): number {
  return value === 0 ? 0 : 1 + varintSize(value);
}

/** Bytes of a length-delimited field (one-byte tag + length + `length` bytes). */
export function lengthDelimitedSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** Writes a varint field (one-byte `tag`) at `at`, nothing for 0; returns where the next byte goes. */
export function writeVarintField(out: Uint8Array, at: number, tag: number, value: number): number {
  if (value === 0) return at;
  out[at++] = tag;
  return writeVarint(out, at, value);
}

/** Writes a bytes field (one-byte `tag`) at `at`; returns where the next byte goes. */
export function writeBytesField(out: Uint8Array, at: number, tag: number, bytes: Uint8Array): number {
  out[at++] = tag;
  at = writeVarint(out, at, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** Writes a string field (one-byte `tag`, UTF-8) at `at`, nothing for ""; returns where the next byte goes. */
export function writeStringField(out: Buffer, at: number, tag: number, text: string): number {
  if (text === '') return at;
  const length = Buffer.byteLength(text);
  out[at++] = tag;
  at = writeVarint(out, at, length);
  return at + out.write(text, at, length, 'utf8');
}

/** A cursor over one encoded message in `buf` [start, end); throws `RangeError` on truncated or malformed input. */
export class WireReader {
  /** Where the next field starts. */
  pos: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end: number = buf.length,
  ) {
    this.pos = start;
  }

  /** Whether the message has more fields. */
  get more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a number (see the file comment). */
  varint(): number {
    const start = this.pos;
    let byte = this.byte();
    if (byte < 128) return byte;
    // The first four bytes fit in a 32-bit integer; later ones are scaled in floating point.
    let value = byte & 127;
    for (let shift = 7; shift < 28; shift += 7) {
      byte = this.byte();
      value |= (byte & 127) << shift;
      if (byte < 128) return value;
    }
    let scale = 2 ** 28;
    for (let i = 4; i < 10; i++) {
      byte = this.byte();
      value += (byte & 127) * scale;
      if (byte < 128) {
        // Ten bytes with the top bit set: a negative number (two's complement over 64 bits).
        if (i === 9 && byte === 1) return this.negative(start);
        if (!Number.isSafeInteger(value)) throw new RangeError('int64 value beyond Number.MAX_SAFE_INTEGER');
        return value;
      }
      scale *= 128;
    }
    throw new RangeError('varint longer than 10 bytes');
  }

  /** An int32 field's value. */
  int32(): number {
    return this.varint() | 0;
  }

  /** A reader over the next length-delimited field (an embedded message). */
  message(): WireReader {
    const start = this.delimited();
    return new WireReader(this.buf, start, this.pos);
  }

  /** The next length-delimited field as a string (UTF-8). */
  string(): string {
    const start = this.delimited();
    return this.buf.toString('utf8', start, this.pos);
  }

  /** The next length-delimited field as a view of the message's bytes (no copy). */
  bytesView(): Buffer {
    const start = this.delimited();
    return this.buf.subarray(start, this.pos);
  }

  /** The next length-delimited field as a copy (it does not keep the whole message alive). */
  bytesCopy(): Buffer {
    const start = this.delimited();
    const out = Buffer.allocUnsafe(this.pos - start);
    this.buf.copy(out, 0, start, this.pos);
    return out;
  }

  /** Moves past the next length-delimited field and returns where its bytes start (they end at `pos`). */
  delimited(): number {
    const length = this.varint();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw new RangeError('length-delimited field runs past the end of its message');
    this.pos = end;
    return start;
  }

  /**
   * Reads the next field, a `map<string, string>` entry (key = 1, value =
   * 2), into `into`; a missing part is "" as in the generated decoders.
   */
  stringMapEntry(into: { [key: string]: string }): void {
    const entry = this.message();
    let key = '';
    let value = '';
    while (entry.more) {
      const tag = entry.varint();
      if (tag === fieldTag(1, wireLengthDelimited)) key = entry.string();
      else if (tag === fieldTag(2, wireLengthDelimited)) value = entry.string();
      else entry.skip(tag & 7);
    }
    into[key] = value;
  }

  /** Skips a field of `wireType` (its tag was read). */
  skip(wireType: number): void {
    switch (wireType) {
      case wireVarint:
        this.varint();
        return;
      case wire64:
        this.advance(8);
        return;
      case wireLengthDelimited:
        this.delimited();
        return;
      case wire32:
        this.advance(4);
        return;
      default:
        throw new RangeError(`unsupported wire type ${wireType}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('truncated varint');
    return this.buf[this.pos++] as number;
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
