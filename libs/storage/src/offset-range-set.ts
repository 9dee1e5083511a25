/**
 * A set of offsets kept as sorted, disjoint, non-adjacent closed ranges: the
 * acknowledgements a subscription has received above its cursor. Consumers
 * ack out of order (several members, `SHARED` mode, retries), but mostly in
 * runs, so a few ranges describe many thousands of acks; adjacent and
 * overlapping ranges are merged on insert, which keeps the form canonical
 * (two equal sets have equal `ranges()` and equal encodings).
 *
 * The ranges live in one flat array `[first0, last0, first1, last1, ...]`:
 * lookups are binary searches (O(log n) in the number of ranges), an insert
 * splices the array once (a memmove, cheap for the tens of thousands of
 * ranges a state may hold), and the common in-order ack at the cursor
 * touches only the first range.
 *
 * Encoding (`encode`/`decode`), unsigned LEB128 varints throughout:
 * `[n]` then n x `[gap][span]`, where `span = last - first` and `gap` is the
 * first range's `first` itself, else `first - previous last - 2` (the
 * distance past the smallest start a non-adjacent range could have). Acks
 * cluster, so most gaps and spans take one or two bytes, against 16 for a
 * pair of fixed u64s; and since no gap can express overlapping or adjacent
 * ranges, every decodable value is a canonical set.
 */
import { InvalidArgumentError } from '@braid/core';
import { assertU53 } from './u64.js';
import { ByteReader, ByteWriter } from './varint.js';

/** A closed range of offsets, `first <= last`. */
export interface OffsetRange {
  /** The range's lowest offset. */
  readonly first: number;
  /** The range's highest offset (inclusive). */
  readonly last: number;
}

/** Acknowledged offsets as sorted disjoint closed ranges; see the file comment. */
export class OffsetRangeSet {
  /** `[first0, last0, first1, last1, ...]`, sorted, with a gap of at least one offset between ranges. */
  private bounds: number[] = [];
  private count = 0;

  /** Offsets in the set (not ranges: see `rangeCount`). */
  get size(): number {
    return this.count;
  }

  /** Disjoint ranges the set is made of. */
  get rangeCount(): number {
    return this.bounds.length / 2;
  }

  /**
   * Adds every offset in [`first`, `last`], merging with overlapping and
   * adjacent ranges. Returns how many offsets were new (0 when all were
   * already in the set, e.g. a repeated ack). Throws
   * `InvalidArgumentError` unless both are integers in [0, 2^53) and
   * `first <= last`.
   */
  add(first: number, last: number = first): number {
    assertU53('first', first);
    assertU53('last', last);
    if (first > last) {
      throw new InvalidArgumentError(`offset range must have first <= last, got ${first}-${last}`, {
        metadata: { first: String(first), last: String(last) },
      });
    }
    // Ranges [i, j) touch [first, last]: they end at first - 1 or later and start at last + 1 or earlier.
    const i = this.firstEndingAtOrAfter(first - 1);
    const j = this.firstStartingAfter(last + 1);
    if (i >= j) {
      this.bounds.splice(2 * i, 0, first, last);
      this.count += last - first + 1;
      return last - first + 1;
    }
    const mergedFirst = Math.min(first, this.startOf(i));
    const mergedLast = Math.max(last, this.endOf(j - 1));
    let replaced = 0;
    for (let k = i; k < j; k++) replaced += this.endOf(k) - this.startOf(k) + 1;
    this.bounds.splice(2 * i, 2 * (j - i), mergedFirst, mergedLast);
    const added = mergedLast - mergedFirst + 1 - replaced;
    this.count += added;
    return added;
  }

  /**
   * Removes `offset`; returns whether it was in the set. Taking an end off a
   * range is O(log n); taking one from the middle splits the range (one
   * splice).
   */
  delete(offset: number): boolean {
    const k = this.firstStartingAfter(offset) - 1;
    if (k < 0 || this.endOf(k) < offset) return false;
    const first = this.startOf(k);
    const last = this.endOf(k);
    if (first === last) this.bounds.splice(2 * k, 2);
    else if (offset === first) this.bounds[2 * k] = first + 1;
    else if (offset === last) this.bounds[2 * k + 1] = last - 1;
    else this.bounds.splice(2 * k + 1, 0, offset - 1, offset + 1);
    this.count--;
    return true;
  }

  /** Every offset in the set, ascending (as many numbers as `size`: for sets known to be small). */
  offsets(): number[] {
    const offsets: number[] = [];
    for (let k = 0; k < this.rangeCount; k++) for (let offset = this.startOf(k); offset <= this.endOf(k); offset++) offsets.push(offset);
    return offsets;
  }

  /** Whether `offset` is in the set. */
  has(offset: number): boolean {
    const i = this.firstStartingAfter(offset) - 1;
    return i >= 0 && this.endOf(i) >= offset;
  }

  /**
   * Moves a cursor over the acknowledged offsets that continue it: if a
   * range holds `cursor`, returns that range's `last + 1`, else `cursor`.
   * Everything below the returned cursor is removed from the set (also
   * stale ranges entirely below `cursor`), so the set keeps only what lies
   * above the cursor. Example: cursor 10 and ranges {10-12, 15} give 13 and
   * leave {15}.
   */
  advance(cursor: number): number {
    assertU53('cursor', cursor);
    let drop = this.firstEndingAtOrAfter(cursor);
    let next = cursor;
    if (drop < this.rangeCount && this.startOf(drop) <= cursor) {
      next = this.endOf(drop) + 1;
      drop++;
    }
    if (drop > 0) {
      for (let k = 0; k < drop; k++) this.count -= this.endOf(k) - this.startOf(k) + 1;
      this.bounds.splice(0, 2 * drop);
    }
    return next;
  }

  /** The ranges in ascending order (a copy). */
  ranges(): OffsetRange[] {
    const ranges: OffsetRange[] = [];
    for (let k = 0; k < this.rangeCount; k++) ranges.push({ first: this.startOf(k), last: this.endOf(k) });
    return ranges;
  }

  /** An independent copy. */
  clone(): OffsetRangeSet {
    const copy = new OffsetRangeSet();
    copy.bounds = [...this.bounds];
    copy.count = this.count;
    return copy;
  }

  /** The set as bytes; see the file comment for the layout. */
  encode(): Buffer {
    const writer = new ByteWriter(4 + this.bounds.length * 2);
    this.writeTo(writer);
    return writer.finish();
  }

  /** Decodes `encode()`'s bytes; throws `RangeError` on malformed or trailing bytes. */
  static decode(bytes: Uint8Array): OffsetRangeSet {
    const reader = new ByteReader(bytes);
    const set = OffsetRangeSet.readFrom(reader);
    reader.expectDone('an offset range set');
    return set;
  }

  /** Appends the encoding to `writer` (it is self-delimiting). @internal */
  writeTo(writer: ByteWriter): void {
    writer.varint(this.rangeCount);
    let previousLast = -2;
    for (let k = 0; k < this.rangeCount; k++) {
      const first = this.startOf(k);
      const last = this.endOf(k);
      writer.varint(first - previousLast - 2).varint(last - first);
      previousLast = last;
    }
  }

  /** Reads one encoded set from `reader`. @internal */
  static readFrom(reader: ByteReader): OffsetRangeSet {
    const set = new OffsetRangeSet();
    const n = reader.varint();
    let previousLast = -2;
    for (let k = 0; k < n; k++) {
      const first = previousLast + 2 + reader.varint();
      const last = first + reader.varint();
      if (!Number.isSafeInteger(last)) throw new RangeError(`offset range ${k} ends beyond 2^53`);
      set.bounds.push(first, last);
      set.count += last - first + 1;
      previousLast = last;
    }
    return set;
  }

  private startOf(k: number): number {
    return this.bounds[2 * k] ?? 0;
  }

  private endOf(k: number): number {
    return this.bounds[2 * k + 1] ?? 0;
  }

  /** The first range whose last offset is >= `offset` (`rangeCount` if none). */
  private firstEndingAtOrAfter(offset: number): number {
    let low = 0;
    let high = this.rangeCount;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.endOf(middle) >= offset) high = middle;
      else low = middle + 1;
    }
    return low;
  }

  /** The first range whose first offset is > `offset` (`rangeCount` if none). */
  private firstStartingAfter(offset: number): number {
    let low = 0;
    let high = this.rangeCount;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.startOf(middle) > offset) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
