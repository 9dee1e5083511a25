import { describe, expect, it } from 'vitest';
import { BACKOFF_DEFAULTS } from './defaults.js';
import { resolveBackoffPolicy } from './policy.js';
import type { BackoffPolicy, Jitter } from './policy.js';

describe('resolveBackoffPolicy', () => {
  it('applies the documented defaults', () => {
    expect(resolveBackoffPolicy()).toEqual({
      initialDelayMs: 1000,
      multiplier: 2,
      maxDelayMs: 60_000,
      jitter: 'full',
      maxAttempts: 5,
      deadlineMs: undefined,
    });
    expect(resolveBackoffPolicy({})).toEqual(BACKOFF_DEFAULTS);
  });

  it('keeps explicit zeros instead of falling back to defaults', () => {
    const policy = resolveBackoffPolicy({ initialDelayMs: 0, maxDelayMs: 0, deadlineMs: 0 });
    expect(policy.initialDelayMs).toBe(0);
    expect(policy.maxDelayMs).toBe(0);
    expect(policy.deadlineMs).toBe(0);
  });

  it('accepts Infinity for maxAttempts and deadlineMs', () => {
    const policy = resolveBackoffPolicy({ maxAttempts: Infinity, deadlineMs: Infinity });
    expect(policy.maxAttempts).toBe(Infinity);
    expect(policy.deadlineMs).toBe(Infinity);
  });

  const invalid: [keyof BackoffPolicy, BackoffPolicy][] = [
    ['initialDelayMs', { initialDelayMs: -1 }],
    ['initialDelayMs', { initialDelayMs: NaN }],
    ['initialDelayMs', { initialDelayMs: Infinity }],
    ['multiplier', { multiplier: 0.5 }],
    ['multiplier', { multiplier: 0 }],
    ['multiplier', { multiplier: NaN }],
    ['maxDelayMs', { maxDelayMs: -5 }],
    ['maxDelayMs', { maxDelayMs: NaN }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['maxAttempts', { maxAttempts: -3 }],
    ['maxAttempts', { maxAttempts: 2.5 }],
    ['maxAttempts', { maxAttempts: NaN }],
    ['deadlineMs', { deadlineMs: -1 }],
    ['deadlineMs', { deadlineMs: NaN }],
    // What a plain-JavaScript caller (or a bad config file) can pass.
    ['jitter', { jitter: 'partial' as Jitter }],
  ];

  it.each(invalid)('rejects a bad %s with a RangeError naming it (%o)', (option, policy) => {
    expect(() => resolveBackoffPolicy(policy)).toThrow(RangeError);
    expect(() => resolveBackoffPolicy(policy)).toThrow(`"${option}"`);
  });
});
