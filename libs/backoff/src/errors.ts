/**
 * The errors this package throws itself. Invalid options are plain
 * `RangeError`s naming the option; giving up is `RetryExhaustedError`.
 */
import type { ExhaustionReason } from './backoff.js';

/**
 * Thrown by `retry()` when every allowed attempt failed with a retriable
 * error, or the deadline left no room for another. The last attempt's error
 * is the `cause`.
 */
export class RetryExhaustedError extends Error {
  override readonly name = 'RetryExhaustedError';
  /**
   * Always `false`: the retries are already spent, so an outer retry loop
   * must not multiply them (the flag `defaultIsRetriable` reads).
   */
  readonly retriable = false;

  /**
   * @param attempts - how many attempts were made, the first included.
   * @param reason - whether attempts or the deadline ran out.
   * @param lastError - what the last attempt failed with; becomes `cause`.
   */
  constructor(
    readonly attempts: number,
    readonly reason: ExhaustionReason,
    lastError: unknown,
  ) {
    super(
      `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} ` +
        `(${reason === 'deadline' ? 'deadline reached' : 'no attempts left'}): ${describe(lastError)}`,
      { cause: lastError },
    );
  }

  /** The error of the last attempt (the same value as `cause`). */
  get lastError(): unknown {
    return this.cause;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
