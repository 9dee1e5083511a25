import { seededRandom } from '@braid/core';
import type { Random } from '@braid/core';
import { describe, expect, it } from 'vitest';
import { computeDelay } from './compute-delay.js';
import type { BackoffPolicy } from './policy.js';

const SAMPLES = 10_000;

/** A Random that must not be consulted. */
const noRandom: Random = {
  next: () => {
    throw new Error('random consulted');
  },
};

function sample(policy: BackoffPolicy, attempt: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: SAMPLES }, () => computeDelay(policy, attempt, undefined, random));
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Counts of `values` in `buckets` equal-width buckets over [low, high). */
function histogram(values: number[], low: number, high: number, buckets: number): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const v of values) {
    const i = Math.min(buckets - 1, Math.floor(((v - low) / (high - low)) * buckets));
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts;
}

describe("computeDelay with jitter 'none'", () => {
  it('gives the exact exponential sequence, capped', () => {
    const policy: BackoffPolicy = { initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 'none' };
    const delays = [1, 2, 3, 4, 5, 6, 7].map((a) => computeDelay(policy, a, undefined, noRandom));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('uses the defaults: 1s doubling to a 60s cap', () => {
    const policy: BackoffPolicy = { jitter: 'none' };
    const delays = [1, 2, 3, 6, 7, 8].map((a) => computeDelay(policy, a, undefined, noRandom));
    expect(delays).toEqual([1000, 2000, 4000, 32_000, 60_000, 60_000]);
  });

  it('stays at the cap when the exponent overflows', () => {
    const policy: BackoffPolicy = { initialDelayMs: 100, maxDelayMs: 5000, jitter: 'none' };
    expect(computeDelay(policy, 100_000, undefined, noRandom)).toBe(5000);
  });

  it('gives constant delays with multiplier 1', () => {
    const policy: BackoffPolicy = { initialDelayMs: 250, multiplier: 1, jitter: 'none' };
    const delays = [1, 2, 3, 10, 50].map((a) => computeDelay(policy, a, undefined, noRandom));
    expect(delays).toEqual([250, 250, 250, 250, 250]);
  });
});

describe('computeDelay with initialDelayMs 0', () => {
  it.each(['none', 'full', 'equal', 'decorrelated'] as const)(
    "gives zero delays with jitter '%s', even when the exponent overflows",
    (jitter) => {
      const random = seededRandom(7);
      const policy: BackoffPolicy = { initialDelayMs: 0, jitter };
      let previous: number | undefined;
      for (const attempt of [1, 2, 3, 10, 100_000]) {
        previous = computeDelay(policy, attempt, previous, random);
        expect(previous).toBe(0);
      }
    },
  );
});

describe("computeDelay with jitter 'full'", () => {
  // Attempt 4 of 100ms doubling: value 800.
  const policy: BackoffPolicy = { initialDelayMs: 100, jitter: 'full' };
  const value = 800;
  const delays = sample(policy, 4, 1);

  it('stays within [0, value]', () => {
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(value);
  });

  it('has a mean of value/2 within 3%', () => {
    expect(Math.abs(mean(delays) - value / 2)).toBeLessThan(0.03 * (value / 2));
  });

  it('is roughly uniform across 10 buckets', () => {
    // 1000 expected per bucket, standard deviation about 30: 10% is > 3 sigma.
    for (const count of histogram(delays, 0, value, 10)) {
      expect(count).toBeGreaterThan(900);
      expect(count).toBeLessThan(1100);
    }
  });

  it('jitters the capped value, not the raw exponential', () => {
    const capped = sample({ initialDelayMs: 100, maxDelayMs: 300, jitter: 'full' }, 10, 2);
    expect(Math.max(...capped)).toBeLessThanOrEqual(300);
    expect(Math.max(...capped)).toBeGreaterThan(290);
  });
});

describe("computeDelay with jitter 'equal'", () => {
  const policy: BackoffPolicy = { initialDelayMs: 100, jitter: 'equal' };
  const value = 800;
  const delays = sample(policy, 4, 3);

  it('stays within [value/2, value] and covers it', () => {
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(value / 2);
    expect(Math.max(...delays)).toBeLessThanOrEqual(value);
    expect(Math.min(...delays)).toBeLessThan(value / 2 + 10);
    expect(Math.max(...delays)).toBeGreaterThan(value - 10);
  });

  it('has a mean of 3/4 value within 3% and is uniform over the upper half', () => {
    expect(Math.abs(mean(delays) - (3 * value) / 4)).toBeLessThan(0.03 * ((3 * value) / 4));
    for (const count of histogram(delays, value / 2, value, 10)) {
      expect(count).toBeGreaterThan(900);
      expect(count).toBeLessThan(1100);
    }
  });
});

describe("computeDelay with jitter 'decorrelated'", () => {
  const initialDelayMs = 100;
  const maxDelayMs = 10_000;
  const policy: BackoffPolicy = { initialDelayMs, maxDelayMs, jitter: 'decorrelated' };

  it('stays within [initial, min(cap, previous * 3)] along a chain of retries', () => {
    const random = seededRandom(4);
    let previous: number | undefined;
    let reachedCap = 0;
    for (let attempt = 1; attempt <= SAMPLES; attempt += 1) {
      const delay = computeDelay(policy, attempt, previous, random);
      const upper = Math.min(maxDelayMs, (previous ?? initialDelayMs) * 3);
      expect(delay).toBeGreaterThanOrEqual(initialDelayMs);
      expect(delay).toBeLessThanOrEqual(upper);
      if (delay === maxDelayMs) reachedCap += 1;
      previous = delay;
    }
    // The chain does reach the cap, and does fall back from it.
    expect(reachedCap).toBeGreaterThan(0);
    expect(reachedCap).toBeLessThan(SAMPLES);
  });

  it('starts from the initial delay: the first retry is uniform in [initial, 3 * initial]', () => {
    const delays = sample(policy, 1, 5);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(initialDelayMs);
    expect(Math.max(...delays)).toBeLessThanOrEqual(3 * initialDelayMs);
    expect(Math.abs(mean(delays) - 2 * initialDelayMs)).toBeLessThan(0.03 * 2 * initialDelayMs);
    for (const count of histogram(delays, initialDelayMs, 3 * initialDelayMs, 10)) {
      expect(count).toBeGreaterThan(900);
      expect(count).toBeLessThan(1100);
    }
  });

  it('depends on the previous delay, not on the attempt number', () => {
    const fromPrevious = (previous: number): number[] => {
      const random = seededRandom(6);
      return Array.from({ length: 100 }, (_, i) => computeDelay(policy, i + 1, previous, random));
    };
    expect(Math.max(...fromPrevious(200))).toBeLessThanOrEqual(600);
    expect(Math.max(...fromPrevious(2000))).toBeGreaterThan(600);
  });

  it('is capped even when previous * 3 is far above the cap', () => {
    const random = seededRandom(8);
    const delays = Array.from({ length: 1000 }, () => computeDelay(policy, 1, maxDelayMs, random));
    expect(Math.max(...delays)).toBe(maxDelayMs);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(initialDelayMs);
  });
});

describe('computeDelay input checks', () => {
  it.each([0, -1, 1.5, NaN])('rejects attempt %s', (attempt) => {
    expect(() => computeDelay({}, attempt, undefined, seededRandom(1))).toThrow(/"attempt"/);
  });

  it.each([-1, NaN, Infinity])('rejects previousDelay %s', (previousDelay) => {
    expect(() => computeDelay({}, 1, previousDelay, seededRandom(1))).toThrow(/"previousDelay"/);
  });

  it('rejects invalid options with a RangeError naming the option', () => {
    expect(() => computeDelay({ multiplier: 0.9 }, 1, undefined, seededRandom(1))).toThrow(
      /"multiplier"/,
    );
  });

  it('is deterministic for a given seed', () => {
    expect(sample({}, 3, 42)).toEqual(sample({}, 3, 42));
  });
});
