/**
 * Unsigned LEB128 varints for stored values whose numbers are mostly small
 * (deltas between offsets, attempt counts): 7 bits per byte, low groups
 * first, the top bit set on every byte but the last (protobuf's encoding).
 * Numbers are JavaScript integers below 2^53, so at most 8 bytes; the
 * arithmetic avoids bitwise operators, which would truncate to 32 bits.
 */

/** Most bytes of one varint: ceil(53 / 7). */
const MAX_VARINT_BYTES = 8;

/** Appends bytes to a buffer that grows as needed. */
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialCapacity = 64) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  /** Appends one byte. */
  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.length++] = value;
    return this;
  }

  /** Appends `value` (an integer in [0, 2^53), checked by the caller) as a varint. */
  varint(value: number): this {
    this.reserve(MAX_VARINT_BYTES);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) + 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
    return this;
  }

  /** Appends `bytes` as they are. */
  bytes(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  /** The bytes written so far, in a buffer of exactly that length. */
  finish(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/**
 * Reads what {@link ByteWriter} wrote. Every read throws `RangeError` on
 * truncated or malformed input, as the other decoders of stored values do:
 * a stored value that does not decode is corruption, not bad user input.
 */
export class ByteReader {
  private position = 0;

  constructor(private readonly buffer: Uint8Array) {}

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.position === this.buffer.length;
  }

  /** Reads one byte. */
  u8(): number {
    const byte = this.buffer[this.position];
    if (byte === undefined) throw new RangeError(`truncated value: no byte at ${this.position}`);
    this.position++;
    return byte;
  }

  /** Reads a varint; rejects more than 8 bytes and values of 2^53 or more. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const byte = this.u8();
      value += (byte % 0x80) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw new RangeError(`varint ending at byte ${this.position - 1} exceeds 2^53`);
        return value;
      }
      scale *= 0x80;
    }
    throw new RangeError(`varint at byte ${this.position - MAX_VARINT_BYTES} is longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /** Reads `length` bytes (a view, not a copy). */
  bytes(length: number): Uint8Array {
    if (this.position + length > this.buffer.length) {
      throw new RangeError(`truncated value: ${length} bytes wanted at ${this.position}, ${this.buffer.length - this.position} left`);
    }
    const view = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  /** Throws unless every byte has been read. */
  expectDone(what: string): void {
    if (!this.done) throw new RangeError(`${this.buffer.length - this.position} trailing bytes after ${what}`);
  }
}
