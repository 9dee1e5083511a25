import type { Clock } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

/** Takes single tokens while it can; returns how many it got. */
function drain(bucket: TokenBucket): number {
  let taken = 0;
  while (bucket.tryTake()) taken++;
  return taken;
}

/** Counts tokens taken one at a time over `seconds`, in 10 ms steps, burst included. */
async function tokensOver(bucket: TokenBucket, clock: FakeClock, seconds: number): Promise<number> {
  let taken = drain(bucket);
  for (let t = 0; t < seconds * 1000; t += 10) {
    await clock.advance(10);
    taken += drain(bucket);
  }
  return taken;
}

describe('TokenBucket', () => {
  it('starts full with a default burst of max(1, rate)', () => {
    const clock = new FakeClock();
    expect(new TokenBucket({ rate: 100, clock }).burst).toBe(100);
    expect(new TokenBucket({ rate: 0.5, clock }).burst).toBe(1);
    expect(new TokenBucket({ rate: 100, clock }).available).toBe(100);
  });

  it.each([0, -1, Number.NaN])('rejects rate %s', (rate) => {
    expect(() => new TokenBucket({ rate, clock: new FakeClock() })).toThrow(RangeError);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects burst %s at a finite rate', (burst) => {
    expect(() => new TokenBucket({ rate: 10, burst, clock: new FakeClock() })).toThrow(RangeError);
  });

  it('rejects invalid token counts', () => {
    const bucket = new TokenBucket({ rate: 10, clock: new FakeClock() });
    expect(() => bucket.tryTake(-1)).toThrow(RangeError);
    expect(() => bucket.msUntil(Number.NaN)).toThrow(RangeError);
  });

  it('gives the burst, then the steady rate: 100/s over 10 s is 1000 + burst', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 100, burst: 20, clock });
    const taken = await tokensOver(bucket, clock, 10);
    expect(Math.abs(taken - (100 * 10 + 20))).toBeLessThanOrEqual(1);
  });

  it('refills at fractional rates without losing tokens to rounding', async () => {
    const clock = new FakeClock();
    const third = new TokenBucket({ rate: 1 / 3, clock });
    // burst 1 + 30 s at 1/3 per second
    expect(await tokensOver(third, clock, 30)).toBe(11);

    const clock2 = new FakeClock();
    const twoAndAHalf = new TokenBucket({ rate: 2.5, clock: clock2 });
    // burst 2.5 (2 whole tokens, 0.5 left over) + 25 over 10 s
    expect(await tokensOver(twoAndAHalf, clock2, 10)).toBe(27);
  });

  it('never fills past the burst however long it idles', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 100, burst: 5, clock });
    drain(bucket);
    await clock.advance(60_000);
    expect(drain(bucket)).toBe(5);
  });

  it('reports exact waits in msUntil', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ rate: 100, burst: 10, clock });
    expect(bucket.msUntil(10)).toBe(0);
    expect(bucket.tryTake(10)).toBe(true);
    expect(bucket.msUntil(0)).toBe(0);
    expect(bucket.msUntil(1)).toBe(10);
    expect(bucket.msUntil(5)).toBe(50);
    expect(bucket.msUntil(10)).toBe(100);
    expect(bucket.msUntil(11)).toBe(Number.POSITIVE_INFINITY);
    await clock.advance(3);
    expect(bucket.msUntil(1)).toBe(7);
    await clock.advance(7);
    expect(bucket.msUntil(1)).toBe(0);
  });

  it('rounds msUntil up to the first whole millisecond with the tokens there', async () => {
    const clock = new FakeClock();
    const slow = new TokenBucket({ rate: 0.5, clock });
    slow.tryTake();
    expect(slow.msUntil()).toBe(2_000);

    const three = new TokenBucket({ rate: 3, clock });
    drain(three);
    expect(three.msUntil()).toBe(334);
    await clock.advance(333);
    expect(three.tryTake()).toBe(false);
    await clock.advance(1);
    expect(three.tryTake()).toBe(true);
  });

  it('treats rate Infinity as unlimited', () => {
    const bucket = new TokenBucket({ rate: Number.POSITIVE_INFINITY, clock: new FakeClock() });
    expect(bucket.burst).toBe(Number.POSITIVE_INFINITY);
    for (let i = 0; i < 1_000; i++) expect(bucket.tryTake(1_000_000)).toBe(true);
    expect(bucket.msUntil(1e12)).toBe(0);
  });

  it('refills an Infinity-rate bucket to its burst at once but no further', () => {
    const bucket = new TokenBucket({ rate: Number.POSITIVE_INFINITY, burst: 10, clock: new FakeClock() });
    expect(bucket.tryTake(10)).toBe(true);
    expect(bucket.tryTake(10)).toBe(true);
    expect(bucket.tryTake(11)).toBe(false);
  });

  it('does not earn the same interval twice when the wall clock steps back', () => {
    let now = 10_000;
    const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
    const bucket = new TokenBucket({ rate: 1, burst: 10, clock });
    drain(bucket);
    now += 3_000;
    expect(drain(bucket)).toBe(3);
    now -= 2_000;
    expect(drain(bucket)).toBe(0);
    now += 2_000;
    expect(drain(bucket)).toBe(0);
    now += 1_000;
    expect(drain(bucket)).toBe(1);
  });

  describe('setRate', () => {
    it('keeps tokens earned so far, capped at the new burst', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 10, clock });
      drain(bucket);
      await clock.advance(500);
      bucket.setRate(1_000);
      expect(bucket.burst).toBe(1_000);
      expect(bucket.available).toBe(5);

      const full = new TokenBucket({ rate: 100, clock });
      full.setRate(10);
      expect(full.available).toBe(10);
      full.setRate(10, 4);
      expect(full.available).toBe(4);
    });

    it('refills at the new rate from the moment it changes', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 10, burst: 100, clock });
      bucket.tryTake(100);
      bucket.setRate(100, 100);
      expect(bucket.msUntil(1)).toBe(10);
      await clock.advance(1_000);
      expect(drain(bucket)).toBe(100);
    });

    it('rejects an invalid rate and keeps the old one', () => {
      const bucket = new TokenBucket({ rate: 10, clock: new FakeClock() });
      expect(() => { bucket.setRate(0); }).toThrow(RangeError);
      expect(() => { bucket.setRate(5, 0); }).toThrow(RangeError);
      expect(bucket.rate).toBe(10);
      expect(bucket.burst).toBe(10);
    });

    it('re-times a waiter at the new rate', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 1, clock });
      bucket.tryTake();
      let done = false;
      const taken = bucket.take().then(() => {
        done = true;
      });
      await clock.advance(5);
      expect(done).toBe(false);
      bucket.setRate(1_000);
      await clock.advance(1);
      expect(done).toBe(true);
      await taken;
      expect(clock.pendingSleeps).toBe(0);
    });

    it('fails waiters that ask for more than the new burst', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 10, clock });
      drain(bucket);
      const big = bucket.take(8);
      const small = bucket.take(2);
      bucket.setRate(5);
      await expect(big).rejects.toThrow(RangeError);
      await clock.advance(400);
      await expect(small).resolves.toBeUndefined();
    });
  });

  describe('take', () => {
    it('resolves at once when the tokens are there', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 10, clock });
      await bucket.take(10);
      expect(bucket.available).toBe(0);
      expect(clock.pendingSleeps).toBe(0);
    });

    it('waits for the tokens on the clock', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 10, clock });
      drain(bucket);
      let done = false;
      const taken = bucket.take(3).then(() => {
        done = true;
      });
      await clock.advance(299);
      expect(done).toBe(false);
      await clock.advance(1);
      expect(done).toBe(true);
      await taken;
      expect(bucket.available).toBe(0);
    });

    it('serves waiters first-in first-out: a later small request does not overtake', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 1, burst: 5, clock });
      drain(bucket);
      const order: string[] = [];
      const big = bucket.take(5).then(() => order.push('big'));
      const small = bucket.take(1).then(() => order.push('small'));

      await clock.advance(1_000);
      // One token is there, but it belongs to the queue, not to newcomers.
      expect(order).toEqual([]);
      expect(bucket.tryTake(1)).toBe(false);
      await clock.advance(4_000);
      expect(order).toEqual(['big']);
      await clock.advance(999);
      expect(order).toEqual(['big']);
      await clock.advance(1);
      expect(order).toEqual(['big', 'small']);
      await Promise.all([big, small]);
      expect(bucket.waiting).toBe(0);
    });

    it('rejects a request larger than the burst', async () => {
      const bucket = new TokenBucket({ rate: 10, clock: new FakeClock() });
      await expect(bucket.take(11)).rejects.toThrow(RangeError);
      expect(bucket.waiting).toBe(0);
    });

    it('rejects an already-aborted take without taking tokens', async () => {
      const bucket = new TokenBucket({ rate: 10, clock: new FakeClock() });
      await expect(bucket.take(1, AbortSignal.abort(new Error('stop')))).rejects.toThrow('stop');
      expect(bucket.available).toBe(10);
    });

    it('on abort, removes the waiter and moves the next one up', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 1, burst: 5, clock });
      drain(bucket);
      const controller = new AbortController();
      const big = bucket.take(5, controller.signal);
      let smallDone = false;
      const small = bucket.take(1).then(() => {
        smallDone = true;
      });

      await clock.advance(500);
      controller.abort(new Error('caller gave up'));
      await expect(big).rejects.toThrow('caller gave up');
      expect(bucket.waiting).toBe(1);
      await clock.advance(499);
      expect(smallDone).toBe(false);
      await clock.advance(1);
      expect(smallDone).toBe(true);
      await small;
    });

    it('cancels its sleep when the last waiter aborts', async () => {
      const clock = new FakeClock();
      const bucket = new TokenBucket({ rate: 1, clock });
      drain(bucket);
      const controller = new AbortController();
      const taken = bucket.take(1, controller.signal);
      await clock.advance(0);
      expect(clock.pendingSleeps).toBe(1);
      controller.abort();
      await expect(taken).rejects.toThrow();
      await clock.advance(0);
      expect(clock.pendingSleeps).toBe(0);
      expect(bucket.waiting).toBe(0);
      // The token accrues for the next caller.
      await clock.advance(1_000);
      expect(bucket.tryTake()).toBe(true);
    });

    it('rejects every waiter when the clock fails', async () => {
      const failing: Clock = {
        now: () => 0,
        sleep: () => Promise.reject(new Error('clock broke')),
      };
      const bucket = new TokenBucket({ rate: 1, clock: failing });
      drain(bucket);
      const first = bucket.take();
      const second = bucket.take();
      await expect(first).rejects.toThrow('clock broke');
      await expect(second).rejects.toThrow('clock broke');
      expect(bucket.waiting).toBe(0);
    });
  });
});
