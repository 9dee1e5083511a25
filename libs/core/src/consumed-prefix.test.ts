import { describe, expect, it } from 'vitest';
import { dropConsumed } from './consumed-prefix.js';

describe('dropConsumed', () => {
  it('empties a fully consumed array, keeps a short consumed prefix, and copies the rest once the prefix outweighs it', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect(dropConsumed(items, 10, 4)).toEqual([]);
    expect(dropConsumed(items, 3, 4)).toBeUndefined(); // shorter than minHead
    expect(dropConsumed(items, 4, 4)).toBeUndefined(); // outweighed by the 6 left
    expect(dropConsumed(items, 5, 4)).toEqual([5, 6, 7, 8, 9]);
    expect(items).toHaveLength(10); // never modified in place
  });
});
