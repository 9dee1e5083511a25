/**
 * Coalescing of single (partition, offset) positions into the closed
 * `OffsetRange`s that `ack` and `extend` requests carry, so that a batch of
 * consecutive acknowledgements travels as one range per partition instead
 * of one entry per record.
 */
import type { OffsetRange } from '@braid/proto';

/** One record's position. */
export interface Position {
  /** Partition of the record. */
  readonly partition: number;
  /** Offset of the record. */
  readonly offset: number;
}

/**
 * The fewest ranges covering exactly `positions`: sorted by partition, then
 * offset; consecutive offsets merge, duplicates collapse. The input is not
 * modified.
 */
export function toRanges(positions: Iterable<Position>): OffsetRange[] {
  const sorted = [...positions].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const ranges: OffsetRange[] = [];
  let current: OffsetRange | undefined;
  for (const { partition, offset } of sorted) {
    if (current?.partition === partition && offset <= current.last + 1) {
      if (offset > current.last) current.last = offset;
      continue;
    }
    current = { partition, first: offset, last: offset };
    ranges.push(current);
  }
  return ranges;
}

/** Whether `position` lies in one of `ranges`. */
export function inRanges(ranges: readonly OffsetRange[], position: Position): boolean {
  return ranges.some((r) => r.partition === position.partition && position.offset >= r.first && position.offset <= r.last);
}
