import { describe, expect, it } from 'vitest';
import { inRanges, toRanges } from './offset-ranges.js';

const at = (partition: number, offset: number) => ({ partition, offset });

describe('toRanges', () => {
  it('merges consecutive offsets per partition into closed ranges, in partition then offset order', () => {
    const positions = [at(1, 7), at(0, 3), at(0, 1), at(0, 2), at(1, 5), at(0, 9), at(1, 6)];
    expect(toRanges(positions)).toEqual([
      { partition: 0, first: 1, last: 3 },
      { partition: 0, first: 9, last: 9 },
      { partition: 1, first: 5, last: 7 },
    ]);
  });

  it('collapses duplicates and leaves gaps as separate ranges', () => {
    expect(toRanges([at(2, 4), at(2, 4), at(2, 6), at(2, 5), at(2, 5), at(2, 8)])).toEqual([
      { partition: 2, first: 4, last: 6 },
      { partition: 2, first: 8, last: 8 },
    ]);
  });

  it('returns no ranges for no positions', () => {
    expect(toRanges([])).toEqual([]);
  });
});

describe('inRanges', () => {
  it('finds a position inside a closed range of its own partition only', () => {
    const ranges = [{ partition: 0, first: 3, last: 5 }];
    expect(inRanges(ranges, at(0, 3))).toBe(true);
    expect(inRanges(ranges, at(0, 5))).toBe(true);
    expect(inRanges(ranges, at(0, 6))).toBe(false);
    expect(inRanges(ranges, at(1, 4))).toBe(false);
  });
});
