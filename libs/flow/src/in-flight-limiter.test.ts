import { describe, expect, it } from 'vitest';
import { inFlightLimiterDefaults } from './defaults.js';
import { InFlightLimiter } from './in-flight-limiter.js';

/** Lets resolved promises' continuations run. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('InFlightLimiter', () => {
  it('uses the documented defaults', () => {
    const limiter = new InFlightLimiter();
    expect(limiter.maxCount).toBe(inFlightLimiterDefaults.maxCount);
    expect(limiter.maxBytes).toBe(inFlightLimiterDefaults.maxBytes);
  });

  it.each([{ maxCount: 0 }, { maxCount: 1.5 }, { maxBytes: 0 }, { maxBytes: -1 }, { maxBytes: Number.NaN }])(
    'rejects %o rather than falling back to a default',
    (options) => {
      expect(() => new InFlightLimiter(options)).toThrow(RangeError);
    },
  );

  it('rejects invalid sizes', async () => {
    const limiter = new InFlightLimiter();
    expect(() => limiter.tryAcquire(-1)).toThrow(RangeError);
    await expect(limiter.acquire(1.5)).rejects.toThrow(RangeError);
    expect(limiter.inFlight).toBe(0);
  });

  it('admits up to the count limit and tracks what is in flight', () => {
    const limiter = new InFlightLimiter({ maxCount: 2, maxBytes: Number.POSITIVE_INFINITY });
    expect(limiter.tryAcquire(10)).toBe(true);
    expect(limiter.tryAcquire(20)).toBe(true);
    expect(limiter.tryAcquire(0)).toBe(false);
    expect(limiter.inFlight).toBe(2);
    expect(limiter.inFlightBytes).toBe(30);
    limiter.release(10);
    expect(limiter.inFlight).toBe(1);
    expect(limiter.inFlightBytes).toBe(20);
  });

  it('admits up to the byte limit', () => {
    const limiter = new InFlightLimiter({ maxCount: Number.POSITIVE_INFINITY, maxBytes: 100 });
    expect(limiter.tryAcquire(60)).toBe(true);
    expect(limiter.tryAcquire(40)).toBe(true);
    expect(limiter.tryAcquire(1)).toBe(false);
    // An empty item still fits exactly at the limit.
    expect(limiter.tryAcquire(0)).toBe(true);
  });

  it('blocks at the limit and wakes waiters first-in first-out on release', async () => {
    const limiter = new InFlightLimiter({ maxCount: 2 });
    await limiter.acquire();
    await limiter.acquire();
    const order: string[] = [];
    const waits = ['a', 'b', 'c'].map((name) => limiter.acquire().then(() => order.push(name)));
    await flush();
    expect(order).toEqual([]);
    expect(limiter.waiting).toBe(3);

    limiter.release();
    await flush();
    expect(order).toEqual(['a']);
    limiter.release();
    limiter.release();
    await flush();
    expect(order).toEqual(['a', 'b', 'c']);
    await Promise.all(waits);
    expect(limiter.inFlight).toBe(2);
  });

  it('does not let a later small item overtake an earlier large one', async () => {
    const limiter = new InFlightLimiter({ maxBytes: 100 });
    limiter.tryAcquire(80);
    const order: string[] = [];
    const big = limiter.acquire(50).then(() => order.push('big'));
    const small = limiter.acquire(10).then(() => order.push('small'));
    await flush();
    // 10 bytes would fit, but the large item is first in line.
    expect(order).toEqual([]);
    expect(limiter.tryAcquire(10)).toBe(false);

    limiter.release(80);
    await Promise.all([big, small]);
    expect(order).toEqual(['big', 'small']);
    expect(limiter.inFlightBytes).toBe(60);
  });

  it('admits a single oversized item when nothing else is in flight', async () => {
    const limiter = new InFlightLimiter({ maxBytes: 100 });
    expect(limiter.tryAcquire(500)).toBe(true);
    expect(limiter.inFlightBytes).toBe(500);
    expect(limiter.tryAcquire(1)).toBe(false);
    limiter.release(500);

    limiter.tryAcquire(10);
    let admitted = false;
    const oversized = limiter.acquire(500).then(() => {
      admitted = true;
    });
    await flush();
    expect(admitted).toBe(false);
    limiter.release(10);
    await oversized;
    expect(limiter.inFlightBytes).toBe(500);
  });

  it('on abort, removes the waiter without admitting it', async () => {
    const limiter = new InFlightLimiter({ maxCount: 1 });
    limiter.tryAcquire();
    const controller = new AbortController();
    const gaveUp = limiter.acquire(0, controller.signal);
    let nextAdmitted = false;
    const next = limiter.acquire().then(() => {
      nextAdmitted = true;
    });

    controller.abort(new Error('deadline'));
    await expect(gaveUp).rejects.toThrow('deadline');
    expect(limiter.waiting).toBe(1);

    limiter.release();
    await next;
    expect(nextAdmitted).toBe(true);
    expect(limiter.inFlight).toBe(1);
    expect(limiter.waiting).toBe(0);
  });

  it('admits those behind a blocking waiter once it aborts', async () => {
    const limiter = new InFlightLimiter({ maxBytes: 100 });
    limiter.tryAcquire(60);
    const controller = new AbortController();
    const big = limiter.acquire(100, controller.signal);
    const small = limiter.acquire(30);
    await flush();
    expect(limiter.inFlightBytes).toBe(60);

    controller.abort();
    await expect(big).rejects.toThrow();
    await small;
    expect(limiter.inFlightBytes).toBe(90);
  });

  it('rejects an already-aborted acquire even when there is room', async () => {
    const limiter = new InFlightLimiter();
    await expect(limiter.acquire(1, AbortSignal.abort(new Error('late')))).rejects.toThrow('late');
    expect(limiter.inFlight).toBe(0);
  });

  it('throws on a release below zero and leaves the counts alone', () => {
    const limiter = new InFlightLimiter();
    expect(() => { limiter.release(); }).toThrow(RangeError);
    limiter.tryAcquire(10);
    expect(() => { limiter.release(11); }).toThrow(RangeError);
    expect(limiter.inFlight).toBe(1);
    expect(limiter.inFlightBytes).toBe(10);
    limiter.release(10);
    expect(limiter.inFlight).toBe(0);
  });
});
