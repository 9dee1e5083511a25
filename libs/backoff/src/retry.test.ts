import { seededRandom } from '@braid/core';
import { FakeClock } from '@braid/core/testing';
import { describe, expect, it, vi } from 'vitest';
import { RetryExhaustedError } from './errors.js';
import { retry } from './retry.js';
import type { RetryInfo } from './retry.js';

class TransientError extends Error {
  readonly retriable = true;
}

class TerminalError extends Error {
  readonly retriable = false;
}

/** Turns a promise into its outcome without leaving a rejection unhandled. */
function outcome<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

/** An attempt that fails with `error` (anything can be thrown), asynchronously like a real call. */
async function failWith(error: unknown): Promise<never> {
  await Promise.resolve();
  throw error;
}

/** Lets pending promise continuations run without moving time. */
async function flush(clock: FakeClock): Promise<void> {
  await clock.advance(0);
}

describe('retry', () => {
  it('succeeds on the 3rd attempt after sleeping the policy delays', async () => {
    const clock = new FakeClock();
    const seen: number[] = [];
    const retries: RetryInfo[] = [];
    const failures = [new TransientError('one'), new TransientError('two')];
    const result = outcome(
      retry(
        (attempt) => {
          seen.push(attempt);
          const failure = failures[attempt - 1];
          return failure ? failWith(failure) : Promise.resolve('done');
        },
        { initialDelayMs: 100, jitter: 'none', clock, onRetry: (info) => retries.push(info) },
      ),
    );

    await flush(clock);
    expect(seen).toEqual([1]);
    expect(clock.pendingDelays()).toEqual([100]);
    await clock.advance(99);
    expect(seen).toEqual([1]);
    await clock.advance(1);
    expect(seen).toEqual([1, 2]);
    expect(clock.pendingDelays()).toEqual([200]);
    await clock.advance(200);

    expect(await result).toEqual({ value: 'done' });
    expect(seen).toEqual([1, 2, 3]);
    expect(clock.pendingSleeps).toBe(0);
    expect(retries).toEqual([
      { attempt: 1, delay: 100, error: failures[0] },
      { attempt: 2, delay: 200, error: failures[1] },
    ]);
  });

  it('sleeps jittered delays drawn from the injected random', async () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    const result = outcome(
      retry(
        (attempt) => (attempt < 2 ? failWith(new TransientError('flaky')) : Promise.resolve(attempt)),
        { initialDelayMs: 1000, clock, random: seededRandom(11), onRetry: ({ delay }) => delays.push(delay) },
      ),
    );
    await flush(clock);
    const [pending] = clock.pendingDelays();
    // The fake clock's epoch-sized timestamps cost a few bits of the fraction.
    expect(delays).toHaveLength(1);
    expect(pending).toBeCloseTo(delays[0] ?? Number.NaN, 3);
    expect(pending).toBeGreaterThanOrEqual(0);
    expect(pending).toBeLessThanOrEqual(1000);
    await clock.advanceToNext();
    expect(await result).toEqual({ value: 2 });
  });

  it('rethrows a terminal error at once, without sleeping', async () => {
    const clock = new FakeClock();
    const terminal = new TerminalError('bad request');
    const fn = vi.fn(() => failWith(terminal));
    const result = await outcome(retry(fn, { clock }));
    expect(result.error).toBe(terminal);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('uses a custom isRetriable', async () => {
    const clock = new FakeClock();
    const fn = vi.fn(() => failWith(new TransientError('marked retriable, but the caller knows better')));
    const result = await outcome(retry(fn, { clock, isRetriable: () => false }));
    expect(result.error).toBeInstanceOf(TransientError);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('retries thrown non-Error values and reports them as the cause', async () => {
    const clock = new FakeClock();
    const result = outcome(
      retry(
        () => failWith('plain string'),
        { maxAttempts: 2, initialDelayMs: 0, clock },
      ),
    );
    await clock.advance(0);
    const { error } = await result;
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error).toMatchObject({ attempts: 2, cause: 'plain string' });
  });

  it('rejects with the abort reason when aborted during the sleep', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const fn = vi.fn(() => failWith(new TransientError('unavailable')));
    const result = outcome(retry(fn, { clock, jitter: 'none', signal: controller.signal }));
    await flush(clock);
    expect(clock.pendingDelays()).toEqual([1000]);

    const reason = new Error('shutting down');
    controller.abort(reason);
    expect((await result).error).toBe(reason);
    expect(clock.pendingSleeps).toBe(0);
    await clock.advance(10_000);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('rejects with the abort reason when an attempt fails after the abort', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const reason = new Error('cancelled by user');
    const onRetry = vi.fn();
    const result = outcome(
      retry(
        (_attempt, signal) => {
          controller.abort(reason);
          return failWith(new TransientError(`attempt saw aborted=${String(signal.aborted)}`));
        },
        { clock, signal: controller.signal, onRetry },
      ),
    );
    expect((await result).error).toBe(reason);
    // Reported as the abort, not as a retriable failure.
    expect(onRetry).not.toHaveBeenCalled();
    expect(clock.pendingSleeps).toBe(0);
  });

  it('never calls fn when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const fn = vi.fn(() => Promise.resolve('unreachable'));
    const result = await outcome(retry(fn, { clock: new FakeClock(), signal: controller.signal }));
    expect(result.error).toEqual(new Error('too late'));
    expect(fn).not.toHaveBeenCalled();
  });

  it('passes fn a signal even when none is given', async () => {
    const signals: AbortSignal[] = [];
    await retry(
      (_attempt, signal) => {
        signals.push(signal);
        return Promise.resolve(1);
      },
      { clock: new FakeClock() },
    );
    expect(signals[0]?.aborted).toBe(false);
  });

  it('throws RetryExhaustedError carrying the last error after maxAttempts', async () => {
    const clock = new FakeClock();
    const errors = [new TransientError('a'), new TransientError('b'), new TransientError('c')];
    const fn = vi.fn((attempt: number) => failWith(errors[attempt - 1]));
    const result = outcome(retry(fn, { maxAttempts: 3, initialDelayMs: 10, jitter: 'none', clock }));
    await clock.advance(10);
    await clock.advance(20);
    const { error } = await result;

    expect(error).toBeInstanceOf(RetryExhaustedError);
    if (!(error instanceof RetryExhaustedError)) return;
    expect(error.attempts).toBe(3);
    expect(error.reason).toBe('attempts');
    expect(error.cause).toBe(errors[2]);
    expect(error.lastError).toBe(errors[2]);
    expect(error.retriable).toBe(false);
    expect(error.message).toContain('3 attempts');
    expect(error.message).toContain('c');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('makes no retry with maxAttempts 1', async () => {
    const clock = new FakeClock();
    const fn = vi.fn(() => failWith(new TransientError('once')));
    const { error } = await outcome(retry(fn, { maxAttempts: 1, clock }));
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error).toMatchObject({ attempts: 1, reason: 'attempts' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingSleeps).toBe(0);
  });

  it('stops without sleeping when the deadline is shorter than the first delay', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const fn = vi.fn(() => failWith(new TransientError('slow dependency')));
    const onRetry = vi.fn();
    const { error } = await outcome(
      retry(fn, { initialDelayMs: 1000, jitter: 'none', deadlineMs: 500, clock, onRetry }),
    );
    expect(error).toBeInstanceOf(RetryExhaustedError);
    expect(error).toMatchObject({ attempts: 1, reason: 'deadline' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(clock.pendingSleeps).toBe(0);
    expect(clock.now()).toBe(start);
  });

  it('counts the deadline from the first attempt, including attempt time', async () => {
    const clock = new FakeClock();
    const fn = vi.fn(async () => {
      await clock.sleep(400); // each attempt takes 400ms before failing
      throw new TransientError('timeout');
    });
    const result = outcome(retry(fn, { initialDelayMs: 100, jitter: 'none', deadlineMs: 1000, clock }));
    await clock.advance(400); // attempt 1 fails at 400, retry at 500
    await clock.advance(100 + 400); // attempt 2 fails at 900; 900 + 200 is past 1000
    const { error } = await result;
    expect(error).toMatchObject({ attempts: 2, reason: 'deadline' });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('rejects invalid options before calling fn', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    const { error } = await outcome(retry(fn, { multiplier: 0.5, clock: new FakeClock() }));
    expect(error).toBeInstanceOf(RangeError);
    expect(String(error)).toContain('"multiplier"');
    expect(fn).not.toHaveBeenCalled();
  });
});
