import { describe, expect, it } from 'vitest';
import { RoundRobin } from './round-robin.js';

describe('RoundRobin', () => {
  it('cycles through 0..n-1 from the start value', () => {
    const fromZero = new RoundRobin();
    expect(Array.from({ length: 7 }, () => fromZero.next(3))).toEqual([0, 1, 2, 0, 1, 2, 0]);
    const fromFive = new RoundRobin(5);
    expect(Array.from({ length: 4 }, () => fromFive.next(4))).toEqual([1, 2, 3, 0]);
  });

  it('keeps rotating when the count changes', () => {
    const rr = new RoundRobin();
    expect([rr.next(2), rr.next(2), rr.next(4), rr.next(4)]).toEqual([0, 1, 2, 3]);
  });

  it('wraps the counter at 2^32 without leaving the range', () => {
    const rr = new RoundRobin(2 ** 32 - 1);
    expect(rr.next(10)).toBe((2 ** 32 - 1) % 10);
    expect(rr.next(10)).toBe(0);
  });

  it('rejects bad counts and start values', () => {
    const rr = new RoundRobin();
    for (const count of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      expect(() => rr.next(count)).toThrow(RangeError);
    }
    for (const start of [-1, 0.5, 2 ** 32, Number.NaN]) {
      expect(() => new RoundRobin(start)).toThrow(RangeError);
    }
  });
});
